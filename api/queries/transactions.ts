/** Reads of `transactions`. */
import type { Reader } from "../sql/reader.js";
import type { ListSpec } from "../sql/page.js";
import { type Fragment, raw, sql } from "../sql/sql.js";
import { type SlotRange, type TimeRange, rangeFilters } from "./common.js";

/** A transaction as the API reads it. Subscription events carry only signature, slot, programIds, success. */
export type TransactionRow = {
  signature: string;
  slot: number;
  blockTime?: Date | null;
  txIndex?: number;
  fee?: string;
  success: boolean;
  err?: unknown;
  feePayer?: string;
  computeUnits?: number | null;
  programIds: string[];
  logTruncated?: boolean;
};

const SELECT = `t.signature, t.slot, t.block_time as "blockTime", t.tx_index as "txIndex", t.fee, t.success, t.err,
  t.fee_payer as "feePayer", t.compute_units as "computeUnits", t.program_ids as "programIds", t.log_truncated as "logTruncated"`;

/** The transactions list; chronological (slot, position in block). */
export const TRANSACTIONS: ListSpec = {
  from: "transactions t",
  select: SELECT,
  orders: {
    SLOT: {
      name: "slot",
      cols: [
        { expr: "t.slot", type: "int" },
        { expr: "t.tx_index", type: "int" },
      ],
    },
  },
};

/** Filters of `transactions(where:)`. */
export type TransactionWhere = {
  program?: string | null;
  account?: string | null;
  feePayer?: string | null;
  success?: boolean | null;
  slot?: SlotRange | null;
  blockTime?: TimeRange | null;
};

/**
 * SQL conditions for a TransactionWhere. `account` matches the fee payer, a swap's trader, or either side of a
 * transfer (as token account or owner): the addresses the schema records.
 */
export function transactionFilters(w: TransactionWhere | null | undefined): Fragment[] {
  const out: Fragment[] = [];
  if (w?.program != null) out.push(sql`t.program_ids @> array[${w.program}::text]`);
  if (w?.feePayer != null) out.push(sql`t.fee_payer = ${w.feePayer}`);
  if (w?.account != null) {
    const a = w.account;
    out.push(sql`(t.fee_payer = ${a}
      or t.signature in (select s.signature from swaps s where s.trader = ${a})
      or t.signature in (select x.signature from token_transfers x
                         where x.source_owner = ${a} or x.destination_owner = ${a} or x.source = ${a} or x.destination = ${a}))`);
  }
  if (w?.success != null) out.push(sql`t.success = ${w.success}`);
  out.push(...rangeFilters("t.slot", w?.slot, "int8"), ...rangeFilters("t.block_time", w?.blockTime, "timestamptz"));
  return out;
}

/** Transactions by signature, in one statement. */
export function transactionsBySignature(reader: Reader, signatures: readonly string[]): Promise<TransactionRow[]> {
  return reader.rows<TransactionRow>(
    sql`select ${raw(SELECT)} from transactions t where t.signature = any(${signatures}::text[])`,
  );
}
