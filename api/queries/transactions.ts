/** Reads of `transactions`. */
import { transactions } from "../../schema/index.js";
import { type Fragment, type ListSpec, type Reader, raw, selectAll, sql } from "../sql/index.js";
import {
  type RecordOf,
  type SlotRange,
  type TimeRange,
  type WithOptional,
  columnsOf,
  fromOf,
  rangeFilters,
} from "./common.js";

/** A transaction as the API reads it. Subscription events carry only signature, slot, programIds, success. */
export type TransactionRecord = WithOptional<
  RecordOf<typeof transactions>,
  "blockTime" | "txIndex" | "fee" | "err" | "feePayer" | "computeUnits" | "logTruncated"
>;

const COLUMNS = columnsOf(transactions);
const SELECT = selectAll(COLUMNS);

/** The transactions list; chronological (slot, position in block). */
export const TRANSACTIONS: ListSpec = {
  from: fromOf(transactions),
  select: SELECT,
  orders: {
    SLOT: {
      name: "slot",
      cols: [
        { expr: COLUMNS.slot, type: "int" },
        { expr: COLUMNS.txIndex, type: "int" },
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
export function transactionsBySignature(reader: Reader, signatures: readonly string[]): Promise<TransactionRecord[]> {
  return reader.rows<TransactionRecord>(
    sql`select ${raw(SELECT)} from ${raw(TRANSACTIONS.from)} where t.signature = any(${signatures}::text[])`,
  );
}
