/** Reads of `swaps`. */
import { swaps } from "../../schema/index.js";
import { type Fragment, type ListSpec, type Reader, raw, selectAll, sql } from "../sql/index.js";
import {
  type RecordOf,
  type SlotRange,
  type TimeRange,
  type WithOptional,
  byInstruction,
  columnsOf,
  fromOf,
  rangeFilters,
} from "./common.js";

/**
 * A swap as the API reads it; the shape subscription events are mapped to as well, which carry neither dex nor txIndex.
 */
export type SwapRecord = WithOptional<RecordOf<typeof swaps>, "dex" | "txIndex">;

const COLUMNS = columnsOf(swaps);
const SELECT = selectAll(COLUMNS);

/** The swaps list; its one ordering is chronological. */
export const SWAPS: ListSpec = {
  from: fromOf(swaps),
  select: SELECT,
  orders: { SLOT: byInstruction(COLUMNS) },
  columns: COLUMNS,
};

/** Filters of `swaps(where:)`. */
export type SwapWhere = {
  pool?: string | null;
  trader?: string | null;
  mint?: string | null;
  dex?: string | null;
  signature?: string | null;
  slot?: SlotRange | null;
  blockTime?: TimeRange | null;
};

/** SQL conditions for a SwapWhere. */
export function swapFilters(w: SwapWhere | null | undefined): Fragment[] {
  const out: Fragment[] = [];
  if (w?.pool != null) out.push(sql`t.pool = ${w.pool}`);
  if (w?.trader != null) out.push(sql`t.trader = ${w.trader}`);
  if (w?.mint != null) out.push(sql`(t.mint_in = ${w.mint} or t.mint_out = ${w.mint})`);
  if (w?.dex != null) out.push(sql`t.dex = ${w.dex}`);
  if (w?.signature != null) out.push(sql`t.signature = ${w.signature}`);
  out.push(...rangeFilters("t.slot", w?.slot, "int8"), ...rangeFilters("t.block_time", w?.blockTime, "timestamptz"));
  return out;
}

/** Every swap of each transaction, in instruction order, in one statement. */
export function swapsBySignature(reader: Reader, signatures: readonly string[]): Promise<SwapRecord[]> {
  return reader.rows<SwapRecord>(
    sql`select ${raw(SELECT)} from ${raw(SWAPS.from)} where t.signature = any(${signatures}::text[]) order by t.signature, instruction_path_key(t.instruction_path)`,
  );
}
