/**
 * The store's SQL names, read from the drizzle tables in schema/ when the module loads: the store spells no table or
 * column name of its own, so a column renamed in schema/ reaches every statement with no other edit.
 * @dev everything here runs once, while the statements are built; nothing is called per batch or per row.
 */
import { getTableColumns, getTableName } from "drizzle-orm";
import { type PgColumn, type PgTable, getTableConfig } from "drizzle-orm/pg-core";

/** The TypeScript property names of a table's columns. */
export type ColumnKey<T extends PgTable> = keyof T["_"]["columns"] & string;

/** A table's SQL name under `$table`, and each column's SQL name (qualified when asked) under its property name. */
export type SqlNames<T extends PgTable> = { readonly [K in ColumnKey<T>]: string } & { readonly $table: string };

/** A plain lower-case identifier needs no quotes (every name in schema/ today); anything else is quoted. */
const PLAIN = /^[a-z_][a-z0-9_]*$/;

/** `name` as an SQL identifier. */
export const ident = (name: string): string => (PLAIN.test(name) ? name : `"${name.replace(/"/g, '""')}"`);

/**
 * The SQL names of `table`: `$table` is the table's own, every other key a column's, prefixed with `qualifier.`
 * when given (`sqlNames(pools, "excluded").reserveA` is `excluded.reserve_a`).
 */
export function sqlNames<T extends PgTable>(table: T, qualifier?: string): SqlNames<T> {
  const prefix = qualifier === undefined ? "" : `${qualifier}.`;
  const out: Record<string, string> = { $table: ident(getTableName(table)) };
  for (const [key, column] of Object.entries(getTableColumns(table))) out[key] = prefix + ident(column.name);
  return Object.freeze(out) as SqlNames<T>;
}

/** The columns of `table` in declaration order, with their property names. */
export function columnEntries(table: PgTable): [key: string, column: PgColumn][] {
  return Object.entries(getTableColumns(table));
}

/**
 * The natural key an upsert of `table` conflicts on, as SQL names: its one unique constraint when it has one (a
 * table with a serial id and a natural key, or a natural key beside a surrogate), else its primary key.
 * @dev a table with two unique constraints is ambiguous: building its upsert fails when the module loads.
 */
export function naturalKey(table: PgTable): string[] {
  const config = getTableConfig(table);
  const unique = [
    ...config.uniqueConstraints.map((u) => u.columns),
    ...config.columns.filter((c) => c.isUnique).map((c) => [c]),
  ];
  if (unique.length > 1) throw new Error(`${config.name}: more than one unique constraint, no single natural key`);
  const key = unique[0] ?? config.primaryKeys[0]?.columns ?? config.columns.filter((c) => c.primary);
  if (key.length === 0) throw new Error(`${config.name}: no primary key or unique constraint to upsert on`);
  return key.map((c) => ident(c.name));
}

/** Column SQL types and the element type their values travel as in an `unnest` array parameter. */
const WIRE: Record<string, string> = {
  text: "text",
  bigint: "int8",
  integer: "int4",
  boolean: "bool",
  jsonb: "jsonb",
  numeric: "numeric",
  "timestamp with time zone": "timestamptz",
};

/**
 * How a column's values travel in an `unnest` array parameter: the element type, and for an array column the cast
 * its select needs (a Postgres array of arrays cannot be ragged, so each row's array goes as its text literal).
 */
export function wireType(column: PgColumn): { type: string; cast?: string } {
  const sqlType = column.getSQLType();
  if (sqlType.endsWith("[]")) return { type: "text", cast: sqlType };
  const type = WIRE[sqlType.replace(/\(.*\)$/, "")];
  if (type === undefined) throw new Error(`column ${column.name}: no wire type for ${sqlType}`);
  return { type };
}

/** `col = excluded.col` for each column name: an upsert's update list that overwrites them. */
export const overwrite = (names: string[]): string => names.map((c) => `${c} = excluded.${c}`).join(", ");
