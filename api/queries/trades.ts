/** Reads of `trades`. */
import { trades } from "../../schema/index.js";
import { type Fragment, type ListSpec, type Reader, raw, selectAll, sql } from "../sql/index.js";
import { type RecordOf, type SlotRange, type TimeRange, columnsOf, fromOf, rangeFilters } from "./common.js";

/** A trade as the API reads it. */
export type TradeRecord = RecordOf<typeof trades>;

const COLUMNS = columnsOf(trades);
const SELECT = selectAll(COLUMNS);

/** The trades list; chronological (slot, position in block, trader). */
export const TRADES: ListSpec = {
  from: fromOf(trades),
  select: SELECT,
  orders: {
    SLOT: {
      name: "slot",
      cols: [
        { expr: COLUMNS.slot, type: "int", as: "slot" },
        { expr: COLUMNS.txIndex, type: "int", as: "txIndex" },
        { expr: COLUMNS.trader, type: "text", as: "trader" },
      ],
    },
  },
  columns: COLUMNS,
};

/** Filters of `trades(where:)`. `mint` matches either side. */
export type TradeWhere = {
  trader?: string | null;
  mint?: string | null;
  signature?: string | null;
  slot?: SlotRange | null;
  blockTime?: TimeRange | null;
};

/** SQL conditions for a TradeWhere. */
export function tradeFilters(w: TradeWhere | null | undefined): Fragment[] {
  const out: Fragment[] = [];
  if (w?.trader != null) out.push(sql`t.trader = ${w.trader}`);
  // two indexed conditions (sold_mint, bought_mint) rather than one array test the planner cannot index
  if (w?.mint != null) out.push(sql`(t.sold_mint = ${w.mint} or t.bought_mint = ${w.mint})`);
  if (w?.signature != null) out.push(sql`t.signature = ${w.signature}`);
  out.push(...rangeFilters("t.slot", w?.slot, "int8"), ...rangeFilters("t.block_time", w?.blockTime, "timestamptz"));
  return out;
}

/** Every trade of each transaction, by trader, in one statement. */
export function tradesBySignature(reader: Reader, signatures: readonly string[]): Promise<TradeRecord[]> {
  return reader.rows<TradeRecord>(
    sql`select ${raw(SELECT)} from ${raw(TRADES.from)} where t.signature = any(${signatures}::text[]) order by t.signature, t.trader`,
  );
}
