/** Reads of `tokens`. */
import { tokens } from "../../schema/index.js";
import { type Fragment, type ListSpec, type Reader, raw, selectAll, sql } from "../sql/index.js";
import { type RecordOf, columnsOf, fromOf } from "./common.js";

/** A token as the API reads it (amounts as decimal strings). */
export type TokenRecord = RecordOf<typeof tokens>;

const COLUMNS = columnsOf(tokens);
const SELECT = selectAll(COLUMNS);

/** The tokens list and its orderings. */
export const TOKENS: ListSpec = {
  from: fromOf(tokens),
  select: SELECT,
  columns: COLUMNS,
  orders: {
    FIRST_SEEN_SLOT: {
      name: "first_seen",
      cols: [
        { expr: COLUMNS.firstSeenSlot, type: "int" },
        { expr: COLUMNS.mint, type: "text" },
      ],
    },
    MINT: { name: "mint", cols: [{ expr: COLUMNS.mint, type: "text" }] },
  },
};

/** Filters of `tokens(where:)`. */
export type TokenWhere = {
  mints?: string[] | null;
  symbol?: string | null;
  program?: TokenRecord["program"] | null;
};

/** SQL conditions for a TokenWhere. */
export function tokenFilters(w: TokenWhere | null | undefined): Fragment[] {
  const out: Fragment[] = [];
  if (w?.mints) out.push(sql`t.mint = any(${w.mints}::text[])`);
  if (w?.symbol != null) out.push(sql`t.symbol = ${w.symbol}`);
  if (w?.program != null) out.push(sql`t.program = ${w.program}`);
  return out;
}

/** Tokens by mint, in one statement. */
export function tokensByMint(reader: Reader, mints: readonly string[]): Promise<TokenRecord[]> {
  return reader.rows<TokenRecord>(
    sql`select ${raw(SELECT)} from ${raw(TOKENS.from)} where t.mint = any(${mints}::text[])`,
  );
}
