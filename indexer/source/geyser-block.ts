/**
 * A Geyser block update in the JSON-RPC shape: the text of a getBlock answer (`{"result": {...}}`, encoding `json`,
 * maxSupportedTransactionVersion 0, no rewards) for the same block, so the worker parses, checks and decodes it as
 * it does an RPC answer and stores the same rows.
 * @dev A lamport balance past 2^53 is written as its digits (the RPC's own JSON number), never a rounded double.
 * A transaction error outside core/transaction-error's tables makes the block not convertible (undefined): its
 * job then fetches it over JSON-RPC rather than store a guess.
 */
import bs58 from "bs58";
import type {
  GeyserBlock,
  GeyserInstruction,
  GeyserTokenBalance,
  GeyserTransactionInfo,
  U64,
} from "../../core/geyser.js";
import { decodeTransactionError } from "../../core/transaction-error.js";

const BIG = "\u0000u64:";
const BIG_TEXT = /"\\u0000u64:(\d+)"/g;

/** A u64 as a JSON number: exact digits past 2^53 (a marker replaced after JSON.stringify). */
const num = (v: U64): number | string => {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : `${BIG}${String(v)}`;
};
const b58 = (b: Uint8Array): string => bs58.encode(b);

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
        accountKeys: m.account_keys.map(b58),
        header: {
          numRequiredSignatures: m.header.num_required_signatures,
          numReadonlySignedAccounts: m.header.num_readonly_signed_accounts,
          numReadonlyUnsignedAccounts: m.header.num_readonly_unsigned_accounts,
        },
        instructions: m.instructions.map((ix) => instruction(ix, false)),
        recentBlockhash: b58(m.recent_blockhash),
        ...(versioned
          ? {
              addressTableLookups: m.address_table_lookups.map((l) => ({
                accountKey: b58(l.account_key),
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
        writable: meta.loaded_writable_addresses.map(b58),
        readonly: meta.loaded_readonly_addresses.map(b58),
      },
      ...(meta.return_data && !meta.return_data_none
        ? {
            returnData: {
              programId: b58(meta.return_data.program_id),
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
 * The getBlock answer text of a block update, or undefined when it cannot be told exactly (an unknown transaction
 * error, or fewer transactions than the block executed: a filtered subscription).
 */
export function blockAnswerText(b: GeyserBlock): Buffer | undefined {
  if (b.transactions.length !== Number(b.executed_transaction_count)) return undefined;
  const txs = [...b.transactions].sort((x, y) => Number(x.index) - Number(y.index));
  if (txs.some((t, i) => Number(t.index) !== i)) return undefined;
  try {
    const result = {
      blockHeight: b.block_height ? num(b.block_height.block_height) : null,
      blockTime: b.block_time ? num(b.block_time.timestamp) : null,
      blockhash: b.blockhash,
      parentSlot: num(b.parent_slot),
      previousBlockhash: b.parent_blockhash,
      transactions: txs.map(transaction),
    };
    return Buffer.from(JSON.stringify({ jsonrpc: "2.0", result, id: 0 }).replace(BIG_TEXT, "$1"));
  } catch (err) {
    if (err instanceof NotConvertible) return undefined;
    throw err;
  }
}
