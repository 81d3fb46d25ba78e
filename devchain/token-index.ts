/**
 * The token accounts the chain knows, as of a slot: what getProgramAccounts and getTokenAccountsByOwner serve for
 * the SPL Token and Token-2022 programs.
 * @dev Built from the chain's own history: every served block up to the slot asked, in chain order, each
 * transaction's postTokenBalances (an account in preTokenBalances and absent from postTokenBalances was closed).
 * LiteSVM activity is part of that history; for its accounts the bytes are LiteSVM's own (Token-2022 extensions
 * included) when the live account still matches the state asked for. Every other account is laid out as the SPL
 * account (165 bytes: a Token-2022 account without extensions has the same layout). An entry without an owner (old
 * ledger data) cannot be laid out and is left out. The state at the finalized slot is kept and moved forward as
 * slots finalize; the slots above it are replayed per request, and a dropped finalized block rebuilds it.
 */
import bs58 from "bs58";
import type { AccountStore, StoredAccount } from "./accounts.js";
import type { BlockRecord, Ledger } from "./ledger.js";

/** An account's state as the balances give it. */
export type TokenAccountState = { mint: string; owner: string; program: string; amount: bigint };

/** The SPL Token account size; a Token-2022 account with extensions is longer. */
export const TOKEN_ACCOUNT_SIZE = 165;
/** Lamports of a rent-exempt 165-byte account. */
const ACCOUNT_RENT = 2_039_280;
const NATIVE_MINT = "So11111111111111111111111111111111111111112";
const U64_MAX = 18446744073709551615n;

type State = Map<string, TokenAccountState>;

/** Applies one block's token balances to `state`, in transaction order. */
function applyBlock(ledger: Ledger, b: BlockRecord, state: State): void {
  const n = ledger.txCount(b);
  for (let i = 0; i < n; i++) {
    const { rec } = ledger.txAt(b, i);
    const meta = rec.raw.meta;
    if (!meta) continue;
    const post = new Set<number>();
    for (const tb of meta.postTokenBalances ?? []) {
      const address = rec.accountKeys[tb.accountIndex];
      if (address === undefined) continue;
      post.add(tb.accountIndex);
      if (!tb.owner) {
        state.delete(address);
        continue;
      }
      state.set(address, {
        mint: tb.mint,
        owner: tb.owner,
        program: tb.programId ?? "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
        amount: BigInt(tb.uiTokenAmount.amount),
      });
    }
    for (const tb of meta.preTokenBalances ?? []) {
      const address = rec.accountKeys[tb.accountIndex];
      if (address !== undefined && !post.has(tb.accountIndex)) state.delete(address);
    }
  }
}

/** The SPL token account layout of a state (initialized, no delegate, no close authority). */
export function tokenAccountData(s: TokenAccountState): Buffer {
  const d = Buffer.alloc(TOKEN_ACCOUNT_SIZE);
  bs58.decode(s.mint).forEach((v, i) => {
    d[i] = v;
  });
  bs58.decode(s.owner).forEach((v, i) => {
    d[32 + i] = v;
  });
  d.writeBigUInt64LE(s.amount & U64_MAX, 64);
  d[108] = 1; // AccountState::Initialized
  if (s.mint === NATIVE_MINT) {
    // a wrapped SOL account: is_native = Some(its rent-exempt reserve)
    d.writeUInt32LE(1, 109);
    d.writeBigUInt64LE(BigInt(ACCOUNT_RENT), 113);
  }
  return d;
}

/** Creates the index over a ledger and the live account store. */
export function createTokenIndex(ledger: Ledger, accounts: AccountStore) {
  let base: State = new Map();
  /** ledger slots applied to `base`, and the highest of them */
  let applied = 0;
  let through = -1;

  /** Number of ledger slots at or below `s`. */
  const countThrough = (s: number): number => {
    let lo = 0;
    let hi = ledger.slots.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ledger.slots[mid]! <= s) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  /** Moves `base` to the finalized slot (rebuilding it when a block it holds was dropped). */
  const advance = (): void => {
    const fin = ledger.state.finalized;
    if (through >= 0 && countThrough(through) !== applied) {
      base = new Map();
      applied = 0;
      through = -1;
    }
    if (fin <= through) return;
    for (const s of ledger.range(through + 1, fin)) applyBlock(ledger, ledger.blocks.get(s)!, base);
    through = fin;
    applied = countThrough(fin);
  };

  /** The state of every known token account as of `slot` (at or above finalized: replayed from the base). */
  const at = (slot: number): State => {
    advance();
    if (slot <= through && slot === ledger.state.finalized) return base;
    if (slot < through) {
      const s: State = new Map();
      for (const b of ledger.range(0, slot)) applyBlock(ledger, ledger.blocks.get(b)!, s);
      return s;
    }
    const s = new Map(base);
    for (const b of ledger.range(through + 1, slot)) applyBlock(ledger, ledger.blocks.get(b)!, s);
    return s;
  };

  return {
    /**
     * The accounts of `program` as of `slot`, each with its data: LiteSVM's bytes when the live account holds the
     * same mint, owner and amount, the SPL layout otherwise.
     */
    accountsOf(program: string, slot: number): { pubkey: string; account: StoredAccount }[] {
      const out: { pubkey: string; account: StoredAccount }[] = [];
      for (const [pubkey, s] of at(slot)) {
        if (s.program !== program) continue;
        const live = accounts.get(pubkey, slot);
        const data = live && live.owner === program && matches(live.data, s) ? live.data : tokenAccountData(s);
        const lamports =
          live && data === live.data ? live.lamports : ACCOUNT_RENT + (s.mint === NATIVE_MINT ? Number(s.amount) : 0);
        out.push({ pubkey, account: { lamports, owner: program, data, executable: false, rentEpoch: U64_MAX } });
      }
      return out.sort((a, b) => (a.pubkey < b.pubkey ? -1 : a.pubkey > b.pubkey ? 1 : 0));
    },
  };
}

/** Whether account bytes hold the state's mint, owner and amount. */
function matches(d: Buffer, s: TokenAccountState): boolean {
  return (
    d.length >= TOKEN_ACCOUNT_SIZE &&
    bs58.encode(d.subarray(0, 32)) === s.mint &&
    bs58.encode(d.subarray(32, 64)) === s.owner &&
    d.readBigUInt64LE(64) === s.amount
  );
}

/** One getProgramAccounts filter, checked. */
export type AccountFilter = { dataSize: number } | { memcmp: { offset: number; bytes: Buffer } };

/** Parses `filters` as Agave does (max 4; memcmp bytes base58 by default, at most 128 bytes); a string is an error. */
export function parseFilters(v: unknown): AccountFilter[] | string {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return "Invalid params: filters must be an array";
  if (v.length > 4) return "Too many filters provided; max 4";
  const out: AccountFilter[] = [];
  for (const f of v as unknown[]) {
    const o = (typeof f === "object" && f !== null ? f : {}) as Record<string, unknown>;
    if (typeof o.dataSize === "number" && Number.isInteger(o.dataSize) && o.dataSize >= 0) {
      out.push({ dataSize: o.dataSize });
      continue;
    }
    const m = o.memcmp as Record<string, unknown> | undefined;
    if (typeof m !== "object" || m === null || typeof m.offset !== "number" || !Number.isInteger(m.offset))
      return "Invalid params: unknown filter";
    let bytes: Buffer;
    if (Array.isArray(m.bytes)) bytes = Buffer.from(m.bytes as number[]);
    else if (typeof m.bytes !== "string") return "Invalid params: memcmp bytes must be a string";
    else if (m.encoding === "base64") {
      if (m.bytes.length > 172) return "Invalid param: DataTooLarge";
      bytes = Buffer.from(m.bytes, "base64");
    } else if (m.encoding === undefined || m.encoding === null || m.encoding === "base58" || m.encoding === "binary") {
      if (m.bytes.length > 175) return "Invalid param: DataTooLarge";
      try {
        bytes = Buffer.from(bs58.decode(m.bytes));
      } catch {
        return "Invalid param: Invalid";
      }
    } else return `Invalid params: unknown variant \`${String(m.encoding)}\`, expected \`base58\` or \`base64\``;
    if (bytes.length > 128) return "Invalid param: DataTooLarge";
    out.push({ memcmp: { offset: m.offset, bytes } });
  }
  return out;
}

/** Whether data passes every filter (a memcmp past the data's end never matches). */
export function passes(data: Buffer, filters: AccountFilter[]): boolean {
  for (const f of filters) {
    if ("dataSize" in f) {
      if (data.length !== f.dataSize) return false;
    } else {
      const { offset, bytes } = f.memcmp;
      if (offset + bytes.length > data.length) return false;
      if (!data.subarray(offset, offset + bytes.length).equals(bytes)) return false;
    }
  }
  return true;
}
