/**
 * The transaction decoder: a cheap pre-filter on account keys, then one pass over the flattened
 * instructions (token programs, DEX presets, IDL programs), then rows.
 * @dev pure: no I/O, no env, no logger; everything that went wrong is returned as a DecodeWarning.
 */
import { type AnchorProgram, EVENT_IX_TAG_HEX, createAnchorProgram } from "./anchor/anchor-program.js";
import type { AnyIdl } from "./anchor/idl-normalize.js";
import { programDataByInstruction } from "./anchor/log-events.js";
import { dexProgramsById } from "./registry.js";
import { type HitAt, measureHits } from "./dex/measure.js";
import type { DexProgram } from "./dex/dex-types.js";
import {
  type TokenEffect,
  type TokenMove,
  decodeAtaInstruction,
  decodeTokenInstruction,
  inferTransferFees,
} from "./programs/token-program/index.js";
import { type LamportMove, SYSTEM_PROGRAM_ID, decodeSystemLamports } from "./programs/system-program/index.js";
import { tokenRows } from "./token-rows.js";
import { tradeRows } from "./trades.js";
import { markInitialized, signerLamports, tokenAccountStates } from "./balances.js";
import { type TxView, createTxView, hexPrefix, ixBytes } from "./tx-view.js";
import type { TxPosition } from "./types.js";
import {
  ASSOCIATED_TOKEN_PROGRAM_ID,
  TOKEN_2022_PROGRAM_ID,
  TOKEN_PROGRAM_ID,
  PRESETS,
  VOTE_PROGRAM_ID,
  resolvePrograms,
} from "../../core/presets.js";
import type { LazyBlock, RawBlock, RawBlockTransaction, TransactionList } from "../../core/solana-types.js";
import type { DecodedBlock, DecodedTransaction } from "../../core/decoded.js";
import type { NewProgramEvent, NewTransaction } from "../../schema/index.js";

/** Options of createDecoder. */
export type DecoderOptions = {
  /** preset names (see core/presets.ts) or program ids */
  programs: readonly string[];
  /** Anchor IDLs (0.30+ or legacy format, parsed JSON) whose programs are decoded into program_events */
  idls?: readonly AnyIdl[];
};

/** The decoder the pipeline uses. */
export type Decoder = {
  trackedProgramIds: Set<string>;
  decodeTransaction(tx: RawBlockTransaction, at: TxPosition): DecodedTransaction | undefined;
  /** Decodes a block; a LazyBlock's transactions are parsed one at a time (a malformed one throws). */
  decodeBlock(block: RawBlock | LazyBlock, slot: number): DecodedBlock;
};

/** Creates a decoder for the given presets, program ids and IDLs. */
export function createDecoder(opts: DecoderOptions): Decoder {
  const tracked = new Set(resolvePrograms(opts.programs));
  // DEX rows only for the presets / ids asked for; an IDL alone adds program_events, not swaps
  const dex = new Map<string, DexProgram>();
  for (const [id, d] of dexProgramsById()) if (tracked.has(id)) dex.set(id, d);
  const idlPrograms = new Map<string, AnchorProgram>();
  for (const raw of opts.idls ?? []) {
    const p = createAnchorProgram(raw);
    idlPrograms.set(p.programId, p);
    tracked.add(p.programId);
  }
  // token instructions are always read when a DEX is tracked (they carry the amounts); rows only when tracked
  const readTokens = dex.size > 0 || tracked.has(TOKEN_PROGRAM_ID) || tracked.has(TOKEN_2022_PROGRAM_ID);
  // aggregators have no pool of their own: a transaction through one gives trades, not swaps
  const aggregators = new Set(
    PRESETS.filter((p) => p.kind === "aggregator")
      .flatMap((p) => p.programIds)
      .filter((id) => tracked.has(id)),
  );
  const idlHasEvents = [...idlPrograms.values()].some((p) => p.eventNames.length > 0);

  function touchesTracked(tx: RawBlockTransaction): boolean {
    const keys = tx.transaction.message.accountKeys;
    // votes: one instruction, the vote program; skipped before any other work
    if (keys.length <= 5 && tx.transaction.message.instructions.length === 1 && keys.includes(VOTE_PROGRAM_ID))
      return false;
    for (const k of keys) if (tracked.has(k)) return true;
    const loaded = tx.meta?.loadedAddresses;
    if (loaded) {
      for (const k of loaded.writable) if (tracked.has(k)) return true;
      for (const k of loaded.readonly) if (tracked.has(k)) return true;
    }
    return false;
  }

  function decodeTransaction(tx: RawBlockTransaction, at: TxPosition): DecodedTransaction | undefined {
    const meta = tx.meta;
    if (!meta || !touchesTracked(tx)) return undefined;
    const view = createTxView(tx);
    const programIds: string[] = [];
    const seen = new Set<string>();
    let invokesTracked = false;
    for (const ix of view.ixs) {
      // "" = a program index past the key list (lookup-table entries lost upstream): not a program
      if (seen.has(ix.programId) || ix.programId === "") continue;
      seen.add(ix.programId);
      programIds.push(ix.programId);
      if (tracked.has(ix.programId)) invokesTracked = true;
    }
    if (!invokesTracked) return undefined;
    const logTruncated = view.logs.includes("Log truncated");
    const blockTime = at.blockTime === null || at.blockTime === undefined ? null : new Date(at.blockTime * 1000);
    const transaction: NewTransaction = {
      signature: view.signature,
      slot: at.slot,
      blockTime,
      txIndex: at.txIndex,
      fee: BigInt(meta.fee ?? 0),
      success: meta.err === null || meta.err === undefined,
      err: meta.err ?? null,
      feePayer: view.keys[0] ?? "",
      computeUnits: meta.computeUnitsConsumed ?? null,
      programIds,
      logTruncated,
    };
    const out: DecodedTransaction = {
      transaction,
      transfers: [],
      swaps: [],
      pools: [],
      liquidityEvents: [],
      programEvents: [],
      trades: [],
      tokens: [],
      tokenAccounts: tokenAccountStates(view, at),
      wallets: signerLamports(tx, view, at),
      warnings: [],
    };
    if (logTruncated) out.warnings.push({ kind: "log_truncated", signature: view.signature });
    // a problem of the transaction as a whole, not of one instruction
    const txError = (message: string) =>
      out.warnings.push({
        kind: "decode_error",
        programId: "",
        discriminator: "",
        signature: view.signature,
        instructionPath: "",
        message,
      });
    for (const index of view.malformedBalances)
      txError(`token balance of account ${index} has an amount that is not an integer; the account is left out`);
    if (!transaction.success) return out;
    try {
      decodeInstructions(view, at, blockTime, out);
    } catch (err) {
      // never a throw: a transaction the decoder cannot read keeps its row and says why
      txError((err as Error).message);
    }
    if (out.swaps.length > 0 || programIds.some((id) => aggregators.has(id))) {
      const pools = [...new Set(out.swaps.map((sw) => sw.pool))];
      const signers = tx.transaction.message.header?.numRequiredSignatures ?? 1;
      const where = { signature: view.signature, slot: at.slot, txIndex: at.txIndex, blockTime };
      out.trades = tradeRows(view, signers, transaction.fee, pools, where);
    }
    return out;
  }

  function decodeInstructions(view: TxView, at: TxPosition, blockTime: Date | null, out: DecodedTransaction): void {
    const n = view.ixs.length;
    const moves: (TokenMove | undefined)[] = new Array(n);
    const lamports: (LamportMove | undefined)[] = new Array(n);
    const created = new Map<number, bigint>();
    const effects: { ix: number; programId: string; effect: TokenEffect }[] = [];
    const hits: HitAt[] = [];
    const eventOrdinals = new Map<string, number>();
    const warn = (programId: string, ixIdx: number, discriminator: string, message?: string) => {
      const base = { programId, discriminator, signature: view.signature, instructionPath: view.ixs[ixIdx]!.path };
      out.warnings.push(
        message === undefined ? { kind: "unknown_instruction", ...base } : { kind: "decode_error", ...base, message },
      );
    };
    const pushEvent = (row: Omit<NewProgramEvent, "ordinal" | "slot" | "txIndex" | "blockTime" | "signature">) => {
      const key = `${row.instructionPath}|${row.kind}|${row.name}`;
      const ordinal = eventOrdinals.get(key) ?? 0;
      eventOrdinals.set(key, ordinal + 1);
      out.programEvents.push({
        ...row,
        signature: view.signature,
        ordinal,
        slot: at.slot,
        txIndex: at.txIndex,
        blockTime,
      });
    };
    let needsLamports = false;

    for (let i = 0; i < n; i++) {
      const ix = view.ixs[i]!;
      const pid = ix.programId;
      try {
        if (pid === TOKEN_PROGRAM_ID || pid === TOKEN_2022_PROGRAM_ID) {
          if (!readTokens) continue;
          const bytes = ixBytes(ix);
          if (!bytes) {
            warn(pid, i, "", "instruction data is not base58");
            continue;
          }
          const effect = decodeTokenInstruction(pid, bytes, ix.accounts);
          if (effect.type === "move") moves[i] = effect.move;
          if (tracked.has(pid)) {
            if (effect.type === "unknown") warn(pid, i, effect.discriminator);
            else if (effect.type === "error") warn(pid, i, effect.discriminator, effect.message);
          }
          effects.push({ ix: i, programId: pid, effect });
          continue;
        }
        if (pid === ASSOCIATED_TOKEN_PROGRAM_ID) {
          const bytes = ixBytes(ix);
          if (bytes) effects.push({ ix: i, programId: pid, effect: decodeAtaInstruction(bytes, ix.accounts) });
          continue;
        }
        if (pid === SYSTEM_PROGRAM_ID) {
          // only lamport transfers inside DEX instructions matter (SOL vaults); decoded lazily below
          continue;
        }
        const d = dex.get(pid);
        const idlProgram = idlPrograms.get(pid);
        if (!d && !idlProgram) continue;
        const bytes = ixBytes(ix);
        if (!bytes) {
          warn(pid, i, "", "instruction data is not base58");
          continue;
        }
        if (d) {
          const r = d.decode(view, i, bytes);
          if (r.type === "hits") {
            for (const hit of r.hits) {
              hits.push({ ix: i, hit, dex: d });
              if (hit.lamportVaultB) needsLamports = true;
            }
          } else if (r.type === "unknown" && !idlProgram) warn(pid, i, r.discriminator);
          else if (r.type === "error") warn(pid, i, r.discriminator, r.message);
        }
        if (idlProgram) {
          if (hexPrefix(bytes, 8) === EVENT_IX_TAG_HEX) {
            // emit_cpi!: a self-CPI whose data is the event; attributed to the instruction that emitted it
            const ev = idlProgram.decodeEvent(bytes.subarray(8));
            const parentPath = ix.parent >= 0 ? view.ixs[ix.parent]!.path : ix.path;
            if (ev)
              pushEvent({
                instructionPath: parentPath,
                kind: "cpi_event",
                name: ev.name,
                programId: pid,
                data: ev.data,
              });
            else warn(pid, i, hexPrefix(bytes, 16), "emit_cpi event does not decode with the IDL");
            continue;
          }
          const accountKeys = ix.accounts.map((k) => view.keys[k] ?? "");
          const m = idlProgram.decodeInstruction(bytes, accountKeys);
          if (m.ok) {
            const { name, ...data } = m.decoded;
            pushEvent({ instructionPath: ix.path, kind: "instruction", name, programId: pid, data });
          } else if (m.reason === "unknown") warn(pid, i, m.discriminator);
          else warn(pid, i, m.discriminator, m.message ?? "does not decode");
        }
      } catch (err) {
        warn(pid, i, hexPrefix(ixBytes(ix), 8), (err as Error).message);
      }
    }

    if (hasUnknownFees(moves)) {
      inferTransferFees(moves, (i) => {
        const t = view.tokenAccounts.get(i);
        return t ? t.post - t.pre : undefined;
      });
    }

    if (needsLamports) {
      for (let i = 0; i < n; i++) {
        const ix = view.ixs[i]!;
        if (ix.programId !== SYSTEM_PROGRAM_ID) continue;
        const bytes = ixBytes(ix);
        const m = bytes && decodeSystemLamports(bytes, ix.accounts);
        if (!m || m.to === undefined) continue;
        const tag = bytes[0];
        if (tag === 0 || tag === 3) created.set(m.to, (created.get(m.to) ?? 0n) + m.lamports);
        else lamports[i] = m;
      }
    }

    if (idlHasEvents && view.logs.length > 0) {
      for (const d of programDataByInstruction(view.logs, view.ixs, (id) => idlPrograms.has(id))) {
        const p = idlPrograms.get(d.programId)!;
        if (p.eventNames.length === 0) continue;
        // an event that does not decode is skipped with a warning; the transaction's other rows stand
        const bytes = Buffer.from(d.data, "base64");
        try {
          const ev = p.decodeEvent(bytes);
          if (ev)
            pushEvent({
              instructionPath: view.ixs[d.ix]!.path,
              kind: "event",
              name: ev.name,
              programId: d.programId,
              data: ev.data,
            });
          else warn(d.programId, d.ix, hexPrefix(bytes, 8), "logged event does not decode with the IDL");
        } catch (err) {
          warn(d.programId, d.ix, hexPrefix(bytes, 8), (err as Error).message);
        }
      }
    }

    tokenRows(view, at, blockTime, effects, out, (pid) => tracked.has(pid));
    markInitialized(out.tokens, view, effects);
    if (hits.length > 0) {
      const m = measureHits(view, hits, moves, lamports, created, {
        signature: view.signature,
        slot: at.slot,
        txIndex: at.txIndex,
        blockTime,
      });
      out.swaps = m.swaps;
      out.liquidityEvents = m.liquidity;
      out.pools = m.pools;
      for (const u of m.unresolved) {
        const bytes = ixBytes(view.ixs[u.hit.ix]!);
        warn(u.hit.dex.programId, u.hit.ix, hexPrefix(bytes, 8), u.reason);
      }
    }
  }

  return {
    trackedProgramIds: tracked,
    decodeTransaction,
    decodeBlock(block, slot) {
      const transactions: DecodedTransaction[] = [];
      const txs = block.transactions ?? [];
      const at = Array.isArray(txs) ? (i: number) => txs[i]! : (i: number) => (txs as TransactionList).get(i);
      for (let i = 0; i < txs.length; i++) {
        const d = decodeTransaction(at(i), { slot, blockTime: block.blockTime, txIndex: i });
        if (d) transactions.push(d);
      }
      return {
        slot,
        parentSlot: block.parentSlot,
        blockhash: block.blockhash,
        blockTime: block.blockTime,
        txCount: txs.length,
        transactions,
      };
    },
  };
}

function hasUnknownFees(moves: ReadonlyArray<TokenMove | undefined>): boolean {
  for (const m of moves) if (m && !m.feeKnown) return true;
  return false;
}
