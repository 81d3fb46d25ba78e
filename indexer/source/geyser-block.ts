/**
 * A Geyser block update in the JSON-RPC shape: the text of a getBlock answer (`{"result": {...}}`, encoding `json`,
 * maxSupportedTransactionVersion 0, no rewards) for the same block, so the worker parses, checks and decodes it as
 * it does an RPC answer and stores the same rows. An update filtered on the tracked programs carries only their
 * transactions: its answer says which positions they hold (FilteredAnswer), and filteredBlock puts them back.
 * @dev A lamport balance past 2^53 is written as its digits (the RPC's own JSON number), never a rounded double.
 * A transaction error outside core/transaction-error's tables makes the block not convertible (undefined): its
 * job then fetches it over JSON-RPC rather than store a guess.
 */
import type {
  GeyserBlock,
  GeyserInstruction,
  GeyserTokenBalance,
  GeyserTransactionInfo,
  U64,
} from "../../core/geyser.js";
import { base58Encode } from "../../core/base58.js";
import type { LazyBlock, RawBlockTransaction, TransactionList } from "../../core/solana-types.js";
import { decodeTransactionError } from "../../core/transaction-error.js";
import { keyText } from "./base58.js";

const BIG = "\u0000u64:";
const BIG_TEXT = /"\\u0000u64:(\d+)"/g;

/** A u64 as a JSON number: exact digits past 2^53 (a marker replaced after JSON.stringify). */
const num = (v: U64): number | string => {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : `${BIG}${String(v)}`;
};
const b58 = (b: Uint8Array): string => base58Encode(b);
/** Account keys and hashes repeat across a block: their text is remembered. */
const key = (b: Uint8Array): string => keyText(b);

class NotConvertible extends Error {}

const instruction = (ix: GeyserInstruction, inner: boolean) => ({
  programIdIndex: ix.program_id_index,
  accounts: [...ix.accounts],
  data: b58(ix.data),
  stackHeight: inner && ix.stack_height !== undefined && ix.stack_height !== null ? ix.stack_height : null,
});

const tokenBalance = (b: GeyserTokenBalance) => ({
  accountIndex: b.account_index,
  mint: b.mint,
  ...(b.owner ? { owner: b.owner } : {}),
  ...(b.program_id ? { programId: b.program_id } : {}),
  uiTokenAmount: {
    amount: b.ui_token_amount.amount,
    decimals: b.ui_token_amount.decimals,
    uiAmount:
      b.ui_token_amount.amount === "0" && b.ui_token_amount.ui_amount === 0 ? null : b.ui_token_amount.ui_amount,
    uiAmountString: b.ui_token_amount.ui_amount_string,
  },
});

function transaction(t: GeyserTransactionInfo) {
  const m = t.transaction.message;
  const meta = t.meta;
  let err: unknown = null;
  if (meta.err) {
    err = decodeTransactionError(meta.err.err);
    if (err === undefined) throw new NotConvertible("transaction error not known");
  }
  const versioned = m.versioned;
  return {
    transaction: {
      signatures: t.transaction.signatures.map(b58),
      message: {
        accountKeys: m.account_keys.map(key),
        header: {
          numRequiredSignatures: m.header.num_required_signatures,
          numReadonlySignedAccounts: m.header.num_readonly_signed_accounts,
          numReadonlyUnsignedAccounts: m.header.num_readonly_unsigned_accounts,
        },
        instructions: m.instructions.map((ix) => instruction(ix, false)),
        recentBlockhash: key(m.recent_blockhash),
        ...(versioned
          ? {
              addressTableLookups: m.address_table_lookups.map((l) => ({
                accountKey: key(l.account_key),
                writableIndexes: [...l.writable_indexes],
                readonlyIndexes: [...l.readonly_indexes],
              })),
            }
          : {}),
      },
    },
    meta: {
      err,
      status: err === null ? { Ok: null } : { Err: err },
      fee: num(meta.fee),
      preBalances: meta.pre_balances.map(num),
      postBalances: meta.post_balances.map(num),
      innerInstructions: meta.inner_instructions_none
        ? null
        : meta.inner_instructions.map((g) => ({
            index: g.index,
            instructions: g.instructions.map((ix) => instruction(ix, true)),
          })),
      logMessages: meta.log_messages_none ? null : meta.log_messages,
      preTokenBalances: meta.pre_token_balances.map(tokenBalance),
      postTokenBalances: meta.post_token_balances.map(tokenBalance),
      rewards: [],
      loadedAddresses: {
        writable: meta.loaded_writable_addresses.map(key),
        readonly: meta.loaded_readonly_addresses.map(key),
      },
      ...(meta.return_data && !meta.return_data_none
        ? {
            returnData: {
              programId: key(meta.return_data.program_id),
              data: [meta.return_data.data.toString("base64"), "base64"],
            },
          }
        : {}),
      ...(meta._compute_units_consumed === "compute_units_consumed" && meta.compute_units_consumed !== undefined
        ? { computeUnitsConsumed: num(meta.compute_units_consumed) }
        : {}),
    },
    version: versioned ? 0 : "legacy",
  };
}

/**
 * What a block update filtered by `account_include` leaves out, written beside the answer's `result` (the key
 * `filtered`): the programs it was filtered on, the block positions of the transactions it carries, and the block's
 * transaction count. The result then holds only those transactions; blocksWithAnswers puts them back at their
 * positions, the others standing in as transactions of no tracked program.
 */
export type FilteredAnswer = { programs: string[]; indexes: number[]; count: number };

/**
 * The getBlock answer text of a block update, or undefined when it cannot be told exactly (an unknown transaction
 * error, transactions missing or repeated). `programs`: the update was filtered on them (Yellowstone's blocks
 * `account_include`), so it may carry fewer transactions than the block executed: the answer then says which
 * (FilteredAnswer). Without `programs` the update must carry the whole block.
 */
export function blockAnswerText(b: GeyserBlock, programs?: readonly string[]): Buffer | undefined {
  const count = Number(b.executed_transaction_count);
  const txs = [...b.transactions].sort((x, y) => Number(x.index) - Number(y.index));
  const indexes = txs.map((t) => Number(t.index));
  if (indexes.some((at, i) => !Number.isSafeInteger(at) || at < 0 || at >= count || (i > 0 && at <= indexes[i - 1]!)))
    return undefined;
  const whole = txs.length === count;
  if (!whole && !programs) return undefined;
  try {
    const result = {
      blockHeight: b.block_height ? num(b.block_height.block_height) : null,
      blockTime: b.block_time ? num(b.block_time.timestamp) : null,
      blockhash: b.blockhash,
      parentSlot: num(b.parent_slot),
      previousBlockhash: b.parent_blockhash,
      transactions: txs.map(transaction),
    };
    const filtered: FilteredAnswer | undefined = whole ? undefined : { programs: [...programs!], indexes, count };
    const answer = { jsonrpc: "2.0", result, id: 0, ...(filtered ? { filtered } : {}) };
    return Buffer.from(JSON.stringify(answer).replace(BIG_TEXT, "$1"));
  } catch (err) {
    if (err instanceof NotConvertible) return undefined;
    throw err;
  }
}

/**
 * A transaction of no tracked program, standing at a position a filtered answer left out: no meta, so the decoder
 * passes it over, as it passes over the transaction that was there.
 */
const LEFT_OUT: RawBlockTransaction = Object.freeze({
  transaction: {
    signatures: [],
    message: {
      accountKeys: [],
      header: { numRequiredSignatures: 0, numReadonlySignedAccounts: 0, numReadonlyUnsignedAccounts: 0 },
      instructions: [],
      recentBlockhash: "",
    },
  },
  meta: null,
}) as RawBlockTransaction;

/**
 * The block of a filtered answer (FilteredAnswer) with its transactions back at their positions and the block's
 * count; undefined when the answer cannot stand for the block: filtered on other programs than every one of
 * `programs` (the decoder's), or positions that do not match the transactions it carries.
 */
export function filteredBlock(
  block: LazyBlock,
  filtered: unknown,
  programs: ReadonlySet<string> | undefined,
): LazyBlock | undefined {
  const f = filtered as Partial<FilteredAnswer> | null;
  if (!programs || typeof f !== "object" || f === null) return undefined;
  if (!Array.isArray(f.programs) || !Array.isArray(f.indexes) || !Number.isSafeInteger(f.count)) return undefined;
  const covered = new Set(f.programs);
  for (const p of programs) if (!covered.has(p)) return undefined;
  const count = f.count!;
  const inner = block.transactions;
  const indexes = f.indexes;
  if (indexes.length !== inner.length) return undefined;
  const at = new Map<number, number>();
  for (let k = 0; k < indexes.length; k++) {
    const i = indexes[k] as number;
    if (!Number.isSafeInteger(i) || i < 0 || i >= count || (k > 0 && i <= (indexes[k - 1] as number))) return undefined;
    at.set(i, k);
  }
  const list: TransactionList = {
    length: count,
    release: () => inner.release(),
    get(i) {
      const k = at.get(i);
      return k === undefined ? LEFT_OUT : inner.get(k);
    },
  };
  return { ...block, transactions: list };
}
