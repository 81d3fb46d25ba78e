/** Reads of `token_transfers`. */
import { tokenTransfers } from "../../schema/index.js";
import { type Fragment, type ListSpec, type Reader, raw, selectAll, sql } from "../sql/index.js";
import {
  type RecordOf,
  type SlotRange,
  type TimeRange,
  byInstruction,
  columnsOf,
  fromOf,
  rangeFilters,
} from "./common.js";

/** A token movement as the API reads it. */
export type TransferRecord = RecordOf<typeof tokenTransfers>;

const COLUMNS = columnsOf(tokenTransfers);
const SELECT = selectAll(COLUMNS);

/** The transfers list; chronological. */
export const TRANSFERS: ListSpec = {
  from: fromOf(tokenTransfers),
  select: SELECT,
  orders: { SLOT: byInstruction(COLUMNS) },
  columns: COLUMNS,
};

/** Filters of `transfers(where:)`. `account` matches a token account or its owner on either side. */
export type TransferWhere = {
  mint?: string | null;
  account?: string | null;
  kind?: TransferRecord["kind"] | null;
  signature?: string | null;
  slot?: SlotRange | null;
  blockTime?: TimeRange | null;
};

/** The condition "this address is on either side of the transfer, as token account or owner". */
export function involves(ref: Fragment): Fragment {
  return sql`(t.source_owner = ${ref} or t.destination_owner = ${ref} or t.source = ${ref} or t.destination = ${ref})`;
}

/** SQL conditions for a TransferWhere. */
export function transferFilters(w: TransferWhere | null | undefined): Fragment[] {
  const out: Fragment[] = [];
  if (w?.mint != null) out.push(sql`t.mint = ${w.mint}`);
  if (w?.account != null) out.push(involves(sql`${w.account}::text`));
  if (w?.kind != null) out.push(sql`t.kind = ${w.kind}`);
  if (w?.signature != null) out.push(sql`t.signature = ${w.signature}`);
  out.push(...rangeFilters("t.slot", w?.slot, "int8"), ...rangeFilters("t.block_time", w?.blockTime, "timestamptz"));
  return out;
}

/** Every transfer of each transaction, in instruction order, in one statement. */
export function transfersBySignature(reader: Reader, signatures: readonly string[]): Promise<TransferRecord[]> {
  return reader.rows<TransferRecord>(
    sql`select ${raw(SELECT)} from ${raw(TRANSFERS.from)} where t.signature = any(${signatures}::text[]) order by t.signature, instruction_path_key(t.instruction_path)`,
  );
}
