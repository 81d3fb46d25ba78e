/** Reads of `swaps`. */
import type { Reader } from "../sql/reader.js";
import { type Columns, type ListSpec, selectAll } from "../sql/page.js";
import { type Fragment, raw, sql } from "../sql/sql.js";
import { BY_INSTRUCTION, type SlotRange, type TimeRange, rangeFilters } from "./common.js";

/** A swap as the API reads it (the shape subscription events are mapped to as well). */
export type SwapRow = {
  signature: string;
  instructionPath: string;
  pool: string;
  dex?: string;
  trader: string;
  mintIn: string;
  mintOut: string;
  amountIn: string;
  amountOut: string;
  slot: number;
  txIndex?: number;
  blockTime: Date | null;
};

const COLUMNS: Columns = {
  sql: {
    signature: "t.signature",
    instructionPath: "t.instruction_path",
    pool: "t.pool",
    dex: "t.dex",
    trader: "t.trader",
    mintIn: "t.mint_in",
    mintOut: "t.mint_out",
    amountIn: "t.amount_in",
    amountOut: "t.amount_out",
    slot: "t.slot",
    txIndex: "t.tx_index",
    blockTime: "t.block_time",
  },
  // the fields of the Swap type (types/swap.ts) that read other properties than the one they are named after
  fields: {
    poolAddress: ["pool"],
    dex: ["dex", "pool"],
    tokenIn: ["mintIn"],
    tokenOut: ["mintOut"],
    amountInUi: ["mintIn", "amountIn"],
    amountOutUi: ["mintOut", "amountOut"],
    transaction: ["signature"],
  },
};

const SELECT = selectAll(COLUMNS.sql);

/** The swaps list; its one ordering is chronological. */
export const SWAPS: ListSpec = { from: "swaps t", select: SELECT, orders: { SLOT: BY_INSTRUCTION }, columns: COLUMNS };

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
export function swapsBySignature(reader: Reader, signatures: readonly string[]): Promise<SwapRow[]> {
  return reader.rows<SwapRow>(
    sql`select ${raw(SELECT)} from swaps t where t.signature = any(${signatures}::text[]) order by t.signature, string_to_array(t.instruction_path, '.')::int[]`,
  );
}
