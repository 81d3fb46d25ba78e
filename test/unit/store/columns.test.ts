import { describe, expect, test } from "vitest";
import { getTableColumns, getTableName, is } from "drizzle-orm";
import {
  type PgColumn,
  PgTable,
  getTableConfig,
  integer,
  pgTable,
  primaryKey,
  text,
  unique,
} from "drizzle-orm/pg-core";
import * as schema from "../../../schema/index.js";
import { UPSERT_STATEMENTS } from "../../../indexer/store/write-sql.js";
import { naturalKey as storeKey, sqlNames } from "../../../indexer/store/columns.js";

const tables = new Map<string, PgTable>();
for (const x of Object.values(schema)) if (is(x, PgTable)) tables.set(getTableName(x), x);

/**
 * Columns a writer leaves out on purpose: the token enricher fills these from the mint account and metadata, and the
 * balances writer keeps supply_slot and holder_count.
 */
const LEFT_TO_OTHERS: Record<string, string[]> = {
  tokens: ["supply", "supply_slot", "holder_count", "name", "symbol", "uri"],
  // the pricing stage's (indexer/pricing): a slot stored again keeps its USD values
  swaps: ["value_usd"],
  trades: ["value_usd"],
};
/** Upserts whose update list merges (keeps the earliest, the widest, the sum) instead of overwriting. */
const MERGING = new Set(["tokens", "pools", "pool_candles_merge"]);
/** The element type each column SQL type travels as in an unnest parameter. */
const WIRE: Record<string, string> = {
  text: "text",
  bigint: "int8",
  integer: "int4",
  boolean: "bool",
  jsonb: "jsonb",
  numeric: "numeric",
  "numeric(39, 0)": "numeric",
  "timestamp with time zone": "timestamptz",
};

/** Splits `s` at the commas outside parentheses and brackets. */
function topLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "(" || c === "[") depth++;
    else if (c === ")" || c === "]") depth--;
    else if (c === "," && depth === 0) {
      out.push(s.slice(from, i).trim());
      from = i + 1;
    }
  }
  out.push(s.slice(from).trim());
  return out;
}

const list = (s: string) => s.split(",").map((x) => x.trim());

/** What an upsert statement writes: its table, insert columns, conflict target and the columns its update sets. */
function parse(sql: string) {
  const insert = /insert into (\w+) \(([^)]*)\)/.exec(sql);
  const conflict = /on conflict \(([^)]*)\) do update set\s+([\s\S]*?)(?:\sreturning\s[\s\S]*)?$/.exec(sql);
  if (!insert || !conflict) throw new Error(`not an upsert: ${sql}`);
  const table = tables.get(insert[1]!);
  if (!table) throw new Error(`no table ${insert[1]} in schema/`);
  // the swaps upsert sits inside a CTE: its update list ends where the CTE's `returning` starts
  const update = conflict[2]!.split(/\sreturning\s/)[0]!;
  return {
    table,
    columns: list(insert[2]!),
    conflict: list(conflict[1]!),
    set: topLevel(update).map((a) => /^(\w+)\s*=/.exec(a)![1]!),
  };
}

/** The table's natural key: its unique constraint when it has one, else its primary key. */
function naturalKey(table: PgTable): string[] {
  const c = getTableConfig(table);
  const key = c.uniqueConstraints[0]?.columns ?? c.primaryKeys[0]?.columns ?? c.columns.filter((x) => x.primary);
  return key.map((x) => x.name);
}

const columnsOf = (table: PgTable): PgColumn[] => Object.values(getTableColumns(table));
const statements = Object.entries(UPSERT_STATEMENTS);

describe("store upserts against schema/", () => {
  test("every data table the decoder fills has an upsert", () => {
    const written = new Set(statements.map(([, sql]) => getTableName(parse(sql).table)));
    for (const t of [
      "transactions",
      "token_transfers",
      "swaps",
      "liquidity_events",
      "program_events",
      "tokens",
      "pools",
      "slot_changes",
      "pool_candles",
      "token_accounts",
      "token_account_changes",
      "wallets",
      "wallet_changes",
    ])
      expect(written).toContain(t);
  });

  test.each(statements)("%s inserts every column of its table, in the table's order", (_name, sql) => {
    const { table, columns } = parse(sql);
    const left = LEFT_TO_OTHERS[getTableName(table)] ?? [];
    expect(columns).toEqual(
      columnsOf(table)
        .map((c) => c.name)
        .filter((n) => !left.includes(n)),
    );
  });

  test("a column an upsert leaves out is nullable or has a default, so the insert cannot fail for it", () => {
    for (const [table, names] of Object.entries(LEFT_TO_OTHERS))
      for (const name of names) {
        const column = columnsOf(tables.get(table)!).find((c) => c.name === name)!;
        expect(column, `${table}.${name}`).toBeDefined();
        expect(!column.notNull || column.hasDefault, `${table}.${name}`).toBe(true);
      }
  });

  test.each(statements)("%s conflicts on its table's natural key", (_name, sql) => {
    const { table, conflict } = parse(sql);
    expect(conflict).toEqual(naturalKey(table));
  });

  test.each(statements)("%s updates only columns it inserts, never the key", (name, sql) => {
    const { columns, conflict, set } = parse(sql);
    const rest = columns.filter((c) => !conflict.includes(c));
    // a plain upsert overwrites every column outside the key; a merging one may keep some of the stored ones
    if (MERGING.has(name)) for (const c of set) expect(rest).toContain(c);
    else expect(set).toEqual(rest);
  });

  test.each(statements.filter(([, sql]) => / as u\(/.test(sql)))(
    "%s sends each column as an array of its own type (array columns as text, cast back per row)",
    (_name, sql) => {
      const { table, columns } = parse(sql);
      const unnest = /insert into \w+ \([^)]*\) select ([\s\S]*?) from unnest\(([^)]*)\) as u\(([^)]*)\)/.exec(sql)!;
      const selects = list(unnest[1]!);
      const params = list(unnest[2]!);
      expect(list(unnest[3]!)).toEqual(columns);
      for (const [i, name] of columns.entries()) {
        const sqlType = columnsOf(table)
          .find((c) => c.name === name)!
          .getSQLType();
        if (sqlType.endsWith("[]")) {
          expect(params[i]).toBe(`$${i + 1}::text[]`);
          expect(selects[i]).toBe(`${name}::${sqlType}`);
        } else {
          expect(params[i], name).toBe(`$${i + 1}::${WIRE[sqlType]}[]`);
          expect(selects[i]).toBe(name);
        }
      }
    },
  );
});

describe("store names", () => {
  test("a column's SQL name is read from its table, so a rename in schema/ is the only edit", () => {
    const before = pgTable("things", { id: text("id").primaryKey(), mintIn: text("mint_in") });
    const after = pgTable("things", { id: text("id").primaryKey(), mintIn: text("input_mint") });
    expect(sqlNames(before).mintIn).toBe("mint_in");
    expect(sqlNames(after).mintIn).toBe("input_mint");
    expect(sqlNames(after, "excluded").mintIn).toBe("excluded.input_mint");
    expect(sqlNames(after).$table).toBe("things");
  });

  test("a name that is not a plain lower-case identifier is quoted", () => {
    const t = pgTable("things", { id: text("id").primaryKey(), mintIn: text("Mint In") });
    expect(sqlNames(t).mintIn).toBe('"Mint In"');
  });

  test("the natural key is the unique constraint when there is one, else the primary key", () => {
    const serial = pgTable("a", { id: integer("id").primaryKey(), q: text("q"), j: text("j") }, (t) => [
      unique("a_natural_key").on(t.q, t.j),
    ]);
    const composite = pgTable("b", { s: integer("s"), k: text("k") }, (t) => [primaryKey({ columns: [t.s, t.k] })]);
    const twoUniques = pgTable("c", { x: text("x").unique(), y: text("y") }, (t) => [unique("c_y").on(t.y)]);
    expect(storeKey(serial)).toEqual(["q", "j"]);
    expect(storeKey(composite)).toEqual(["s", "k"]);
    expect(() => storeKey(twoUniques)).toThrow(/more than one unique constraint/);
  });
});
