/**
 * A getBlock `json` result (as the chain serves it) in Geyser's protobuf shape: the SubscribeUpdateBlock a
 * Yellowstone server sends for the same block. Keys, hashes and signatures are bytes, instruction data raw bytes,
 * a transaction error its bincode bytes (core/transaction-error).
 * @dev The server's path (encodeBlockRecord) writes a produced block's update straight from the ledger: each
 * transaction record's message and meta are encoded once (cached on the record, as the JSON path caches its text),
 * so a block of clones costs their signatures and a copy.
 */
import type { GeyserBlock, GeyserInstruction, GeyserTokenBalance, GeyserTransactionInfo } from "../core/geyser.js";
import type { RawBlock, RawBlockTransaction, RawTokenBalance } from "../core/solana-types.js";
import { encodeTransactionError } from "../core/transaction-error.js";
import { base58Decode } from "../core/base58.js";
import { type BlockHead, encodeBlockParts, type TxPieces, txPieces } from "./geyser-wire.js";
import type { BlockRecord, Ledger } from "./ledger.js";

const VOTE_PROGRAM_ID = "Vote111111111111111111111111111111111111111";
/** parseLossless keeps a u64 past 2^53 as this prefix and its digits. */
const SENTINEL = "\u0000u64:";

const u64 = (v: unknown): string => {
  const s = String(v);
  return s.startsWith(SENTINEL) ? s.slice(SENTINEL.length) : s;
};
const KEY_CACHE_MAX = 100_000;
const keys = new Map<string, Buffer>();
/** A key's bytes; keys repeat across a block's transactions, so recent ones are remembered. */
const key = (s: string): Buffer => {
  let b = keys.get(s);
  if (b === undefined) {
    if (keys.size >= KEY_CACHE_MAX) keys.clear();
    b = base58Decode(s);
    keys.set(s, b);
  }
  return b;
};

const instruction = (ix: {
  programIdIndex: number;
  accounts: number[];
  data: string;
  stackHeight?: number | null;
}): GeyserInstruction => ({
  program_id_index: ix.programIdIndex,
  accounts: Buffer.from(ix.accounts),
  data: base58Decode(ix.data),
  ...(typeof ix.stackHeight === "number" ? { stack_height: ix.stackHeight } : {}),
});

const tokenBalance = (b: RawTokenBalance): GeyserTokenBalance => ({
  account_index: b.accountIndex,
  mint: b.mint,
  owner: b.owner ?? "",
  program_id: b.programId ?? "",
  ui_token_amount: {
    ui_amount: b.uiTokenAmount.uiAmount ?? 0,
    decimals: b.uiTokenAmount.decimals,
    amount: b.uiTokenAmount.amount,
    ui_amount_string: b.uiTokenAmount.uiAmountString ?? "",
  },
});

/** One transaction of a block as SubscribeUpdateTransactionInfo. */
function transactionInfo(t: RawBlockTransaction, index: number): GeyserTransactionInfo {
  const m = t.transaction.message;
  const meta = t.meta!;
  const err = meta.err == null ? null : { err: encodeTransactionError(meta.err) ?? Buffer.alloc(0) };
  return {
    signature: base58Decode(t.transaction.signatures[0]!),
    is_vote: m.instructions.length === 1 && m.accountKeys[m.instructions[0]!.programIdIndex] === VOTE_PROGRAM_ID,
    index,
    transaction: {
      signatures: t.transaction.signatures.map(base58Decode),
      message: {
        header: {
          num_required_signatures: m.header.numRequiredSignatures,
          num_readonly_signed_accounts: m.header.numReadonlySignedAccounts,
          num_readonly_unsigned_accounts: m.header.numReadonlyUnsignedAccounts,
        },
        account_keys: m.accountKeys.map(key),
        recent_blockhash: key(m.recentBlockhash),
        instructions: m.instructions.map(instruction),
        versioned: t.version === 0,
        address_table_lookups: (m.addressTableLookups ?? []).map((l) => ({
          account_key: key(l.accountKey),
          writable_indexes: Buffer.from(l.writableIndexes),
          readonly_indexes: Buffer.from(l.readonlyIndexes),
        })),
      },
    },
    meta: {
      err,
      fee: u64(meta.fee),
      pre_balances: meta.preBalances.map(u64),
      post_balances: meta.postBalances.map(u64),
      inner_instructions: (meta.innerInstructions ?? []).map((g) => ({
        index: g.index,
        instructions: g.instructions.map(instruction),
      })),
      inner_instructions_none: meta.innerInstructions == null,
      log_messages: meta.logMessages ?? [],
      log_messages_none: meta.logMessages == null,
      pre_token_balances: (meta.preTokenBalances ?? []).map(tokenBalance),
      post_token_balances: (meta.postTokenBalances ?? []).map(tokenBalance),
      rewards: [],
      loaded_writable_addresses: (meta.loadedAddresses?.writable ?? []).map(key),
      loaded_readonly_addresses: (meta.loadedAddresses?.readonly ?? []).map(key),
      return_data: meta.returnData
        ? { program_id: key(meta.returnData.programId), data: Buffer.from(meta.returnData.data[0], "base64") }
        : null,
      return_data_none: !meta.returnData,
      ...(meta.computeUnitsConsumed == null ? {} : { compute_units_consumed: u64(meta.computeUnitsConsumed) }),
    },
  };
}

/**
 * Whether a transaction names one of `include` among its accounts, static or loaded from lookup tables (the keys a
 * Yellowstone server matches `account_include` against).
 */
function mentions(t: RawBlockTransaction, include: ReadonlySet<string>): boolean {
  for (const k of t.transaction.message.accountKeys) if (include.has(k)) return true;
  const loaded = t.meta?.loadedAddresses;
  if (!loaded) return false;
  for (const k of loaded.writable) if (include.has(k)) return true;
  for (const k of loaded.readonly) if (include.has(k)) return true;
  return false;
}

/**
 * A block's SubscribeUpdateBlock (no accounts or entries): every transaction, those naming one of `include` (a
 * blocks filter's `account_include`), or none (`include_transactions` false). Each keeps its position in the block,
 * and the block its executed count.
 */
export function geyserBlock(
  slot: number,
  b: RawBlock,
  txs: { include?: ReadonlySet<string> | undefined; none?: boolean } = {},
): GeyserBlock {
  const { include, none } = txs;
  return {
    slot,
    blockhash: b.blockhash,
    block_time: b.blockTime == null ? null : { timestamp: b.blockTime },
    block_height: b.blockHeight == null ? null : { block_height: b.blockHeight },
    parent_slot: b.parentSlot,
    parent_blockhash: b.previousBlockhash,
    executed_transaction_count: b.transactions.length,
    transactions: none
      ? []
      : b.transactions.flatMap((t, i) => (t.meta && (!include || mentions(t, include)) ? [transactionInfo(t, i)] : [])),
  };
}

/** A block update as the server writes it: its bytes and what it carries. */
export type EncodedBlock = { bytes: Buffer; transactions: number; leftOut: number };

/**
 * A produced block's update bytes, as encodeBlockUpdate would give for geyserBlock of its getBlock `json` result
 * with the same filter (the same bytes), from the ledger's records.
 */
export function encodeBlockRecord(
  ledger: Ledger,
  b: BlockRecord,
  txs: { include?: ReadonlySet<string> | undefined; none?: boolean } = {},
): EncodedBlock {
  const { include, none } = txs;
  const count = ledger.txCount(b);
  const head: BlockHead = {
    slot: b.slot,
    blockhash: b.blockhash,
    block_time: b.blockTime == null ? null : { timestamp: b.blockTime },
    block_height: b.blockHeight == null ? null : { block_height: b.blockHeight },
    parent_slot: b.parentSlot,
    parent_blockhash: b.previousBlockhash,
    executed_transaction_count: count,
  };
  let sent = 0;
  const bytes = encodeBlockParts(["slotline"], head, (tx) => {
    if (none) return;
    for (let i = 0; i < count; i++) {
      const { rec, signatures } = ledger.txAt(b, i);
      if (!rec.raw.meta || (include && !rec.accountKeys.some((k) => include.has(k)))) continue;
      const c = rec.cache as { geyser?: { pieces: TxPieces; signatures: Buffer[] } };
      c.geyser ??= {
        pieces: txPieces(transactionInfo({ ...rec.raw, version: rec.version }, 0)),
        signatures: rec.raw.transaction.signatures.map(base58Decode),
      };
      const own = signatures === rec.raw.transaction.signatures;
      tx(own ? c.geyser.signatures : signatures.map(base58Decode), c.geyser.pieces, i);
      sent++;
    }
  });
  return { bytes, transactions: sent, leftOut: count - sent };
}
