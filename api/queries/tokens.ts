/** Reads of `tokens`. */
import type { Reader } from "../sql/reader.js";
import { type Columns, type ListSpec, selectAll } from "../sql/page.js";
import { type Fragment, raw, sql } from "../sql/sql.js";

/** A token as the API reads it (amounts as decimal strings). */
export type TokenRow = {
  mint: string;
  program: "spl-token" | "token-2022";
  decimals: number | null;
  supply: string | null;
  mintAuthority: string | null;
  freezeAuthority: string | null;
  name: string | null;
  symbol: string | null;
  uri: string | null;
  firstSeenSlot: number;
  updatedSlot: number;
};

const COLUMNS: Columns = {
  sql: {
    mint: "t.mint",
    program: "t.program",
    decimals: "t.decimals",
    supply: "t.supply",
    mintAuthority: "t.mint_authority",
    freezeAuthority: "t.freeze_authority",
    name: "t.name",
    symbol: "t.symbol",
    uri: "t.uri",
    firstSeenSlot: "t.first_seen_slot",
    updatedSlot: "t.updated_slot",
  },
  // the fields of the Token type (types/token.ts) that read other properties than the one they are named after
  fields: {
    supplyUi: ["supply", "decimals"],
    pools: ["mint"],
    transfers: ["mint"],
  },
};

const SELECT = selectAll(COLUMNS.sql);

/** The tokens list and its orderings. */
export const TOKENS: ListSpec = {
  from: "tokens t",
  select: SELECT,
  columns: COLUMNS,
  orders: {
    FIRST_SEEN_SLOT: {
      name: "first_seen",
      cols: [
        { expr: "t.first_seen_slot", type: "int" },
        { expr: "t.mint", type: "text" },
      ],
    },
    MINT: { name: "mint", cols: [{ expr: "t.mint", type: "text" }] },
  },
};

/** Filters of `tokens(where:)`. */
export type TokenWhere = {
  mints?: string[] | null;
  symbol?: string | null;
  program?: "spl-token" | "token-2022" | null;
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
export function tokensByMint(reader: Reader, mints: readonly string[]): Promise<TokenRow[]> {
  return reader.rows<TokenRow>(sql`select ${raw(SELECT)} from tokens t where t.mint = any(${mints}::text[])`);
}
