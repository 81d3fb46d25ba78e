/**
 * The bulk upsert builder every writer of the store uses: one statement per table per batch, every column travelling
 * as one array parameter that `unnest` turns into rows.
 * @dev statements are built once, when their module loads, from the drizzle tables (columns.ts).
 */
import type pg from "pg";
import type { PgTable } from "drizzle-orm/pg-core";
import { type ColumnKey, columnEntries, naturalKey, overwrite, sqlNames, wireType } from "./columns.js";
import { arrayLiteral } from "./values.js";

/** One column: its SQL name, its array type on the wire, how to read it from a row, and its select expression. */
export type Col<T> = { name: string; type: string; get: (row: T) => unknown; select: string };

/**
 * How a writer reads each column of `T`'s table from its rows of type `R`; `null` leaves the column out of the
 * insert (to its default, or to another writer). Every column must be listed, so a column added to a table does not
 * compile until its writers say what they do with it.
 */
export type Getters<R, T extends PgTable> = { readonly [K in ColumnKey<T>]-?: ((row: R) => unknown) | null };

/** One bulk upsert: the columns it writes, in the table's order, its statement, and the columns of its natural key. */
export type Upsert<R> = { cols: Col<R>[]; sql: string; keyCols: Col<R>[] };

/**
 * Builds `insert ... select ... from unnest(...) on conflict (<natural key>) do update set ...` for `table`, with
 * `$n` parameters in column order. `set` is the update list; by default every written column outside the key is
 * overwritten.
 */
export function upsert<R, T extends PgTable>(table: T, getters: Getters<R, T>, set?: string): Upsert<R> {
  const n = sqlNames(table);
  const cols: Col<R>[] = [];
  for (const [key, column] of columnEntries(table)) {
    const get = (getters as Record<string, ((row: R) => unknown) | null>)[key];
    if (get === null) continue;
    if (get === undefined) throw new Error(`${n.$table}: no getter for column ${column.name}`);
    const name = n[key as ColumnKey<T>];
    const wire = wireType(column);
    cols.push({ name, type: wire.type, get, select: wire.cast ? `${name}::${wire.cast}` : name });
  }
  const key = naturalKey(table);
  const names = cols.map((c) => c.name).join(", ");
  const params = cols.map((c, i) => `$${i + 1}::${c.type}[]`).join(", ");
  const select = cols.map((c) => c.select).join(", ");
  const update = set ?? overwrite(cols.map((c) => c.name).filter((c) => !key.includes(c)));
  const keyCols = cols.filter((c) => key.includes(c.name));
  if (keyCols.length !== key.length) throw new Error(`${n.$table}: the upsert does not write its whole natural key`);
  return {
    cols,
    keyCols,
    sql: `insert into ${n.$table} (${names}) select ${select} from unnest(${params}) as u(${names}) on conflict (${key.join(", ")}) do update set ${update}`,
  };
}

/** The array parameters of `rows`, in column order, as array literals. */
export function columnParams<T>(cols: Col<T>[], rows: T[]): string[] {
  return cols.map((c) => arrayLiteral(rows, c.get, c.type === "text"));
}

/**
 * `rows` with one row per natural key, the last of each: a multi-row upsert that meets one key twice fails ("ON
 * CONFLICT DO UPDATE command cannot affect row a second time"), and a block that lists a transaction twice (a broken
 * or hostile RPC answer) would dead-letter its batch and hold the resume point. Rows come in slot order, so the later
 * slot's row wins, as it does across batches.
 */
export function uniqueRows<T>(u: Upsert<T>, rows: T[]): T[] {
  const [k0, ...rest] = u.keyCols;
  return keepLast(rows, (r) => {
    let key = String(k0!.get(r));
    for (const c of rest) key += `\u0000${String(c.get(r))}`;
    return key;
  });
}

/** `rows` with the last row of each `key`, in their order; `rows` itself when no key repeats. */
export function keepLast<T>(rows: T[], key: (row: T) => string | number): T[] {
  if (rows.length < 2) return rows;
  const last = new Map<string | number, number>();
  rows.forEach((r, i) => last.set(key(r), i));
  if (last.size === rows.length) return rows;
  const keep = new Set(last.values());
  return rows.filter((_, i) => keep.has(i));
}

/**
 * Runs `u` over `rows`, one per natural key (uniqueRows or a merge), nothing when there are none; returns the number
 * of rows inserted or updated.
 */
export async function run<T>(client: pg.PoolClient, u: Upsert<T>, rows: T[]): Promise<number> {
  if (rows.length === 0) return 0;
  const r = await client.query(u.sql, columnParams(u.cols, rows));
  return r.rowCount ?? 0;
}
