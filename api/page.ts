/**
 * Keyset pagination (never OFFSET): one page of a list, or the first page of a list under each of many parents
 * in one statement (a LATERAL join over the parents' keys).
 * @dev the last column of every ordering is unique, so positions are total and cursors stay stable while rows
 * are inserted; all columns of an ordering share one direction so a row comparison can use the index.
 */
import { type KeyType, decodeCursor, encodeCursor } from "./cursor.js";
import type { Reader } from "./db.js";
import { apiError } from "./errors.js";
import { type Fragment, join, raw, sql, where } from "./sql.js";

/** One ordering of a list: its key columns (SQL expressions over alias `t`), the last one unique. */
export type OrderSpec = { name: string; cols: readonly { expr: string; type: KeyType }[] };

/** A list: what to select from where, and its orderings. */
export type ListSpec = { from: string; select: string; orders: Record<string, OrderSpec> };

/** Relay arguments. */
export type PageArgs = { first?: number | null; after?: string | null; last?: number | null; before?: string | null };

/** Limits applied to `first`/`last`. */
export type PageLimits = { defaultFirst: number; maxFirst: number };

/** A Relay connection, with a lazy total count. */
export type Page<T> = {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: () => Promise<number>;
};

/** The request's ordering: spec and direction. */
export type Order = { spec: OrderSpec; desc: boolean };

type Plan = { n: number; fromEnd: boolean; conditions: Fragment[]; after: boolean; before: boolean };

function plan(args: PageArgs, order: Order, limits: PageLimits): Plan {
  if (args.first != null && args.last != null) throw apiError("BAD_USER_INPUT", "Pass either first or last, not both.");
  const n = args.first ?? args.last ?? limits.defaultFirst;
  if (n < 0) throw apiError("BAD_USER_INPUT", "first and last must not be negative.");
  if (n > limits.maxFirst) throw apiError("FIRST_LIMIT", `first and last are limited to ${limits.maxFirst}.`);
  const types = order.spec.cols.map((c) => c.type);
  const tuple = raw(`(${order.spec.cols.map((c) => c.expr).join(", ")})`);
  const params = (key: (number | string)[]) =>
    sql`(${join(key.map((v, i) => sql`${v}::${raw(types[i] === "int" ? "int8" : "text")}`), ", ")})`;
  const conditions: Fragment[] = [];
  if (args.after) {
    const c = decodeCursor(args.after, order.spec.name, types);
    conditions.push(sql`${tuple} ${raw(order.desc ? "<" : ">")} ${params(c.key)}`);
  }
  if (args.before) {
    const c = decodeCursor(args.before, order.spec.name, types);
    conditions.push(sql`${tuple} ${raw(order.desc ? ">" : "<")} ${params(c.key)}`);
  }
  return { n, fromEnd: args.first == null && args.last != null, conditions, after: !!args.after, before: !!args.before };
}

function orderBy(order: Order, reverse: boolean, prefix = ""): Fragment {
  const dir = order.desc !== reverse ? "desc" : "asc";
  return raw(order.spec.cols.map((c, i) => `${prefix}${prefix ? `__k${i}` : c.expr} ${dir}`).join(", "));
}

function keyColumns(order: Order): Fragment {
  return raw(order.spec.cols.map((c, i) => `${c.expr} as __k${i}`).join(", "));
}

function toPage<T>(rows: Record<string, unknown>[], p: Plan, order: Order, totalCount: () => Promise<number>): Page<T> {
  const more = rows.length > p.n;
  const kept = rows.slice(0, p.n);
  if (p.fromEnd) kept.reverse();
  // Cursors are encoded only when asked for (most pages read a few at most).
  const edges = kept.map((row) => ({
    get cursor() {
      return encodeCursor(order.spec.name, order.spec.cols.map((_, i) => row[`__k${i}`] as number | string));
    },
    node: row as T,
  }));
  return {
    edges,
    pageInfo: {
      // Without a cursor on that side, nothing lies beyond it; with one, the cursor's own row does.
      hasNextPage: p.fromEnd ? p.before : more,
      hasPreviousPage: p.fromEnd ? more : p.after,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount,
  };
}

/** One page of a list filtered by `filters`. */
export async function fetchPage<T>(
  reader: Reader,
  spec: ListSpec,
  filters: Fragment[],
  order: Order,
  args: PageArgs,
  limits: PageLimits,
): Promise<Page<T>> {
  const p = plan(args, order, limits);
  const from = raw(spec.from);
  const rows =
    p.n === 0
      ? []
      : await reader.rows<Record<string, unknown>>(
          sql`select ${raw(spec.select)}, ${keyColumns(order)} from ${from} ${where([...filters, ...p.conditions])}
              order by ${orderBy(order, p.fromEnd)} limit ${p.n + 1}`,
        );
  let count: Promise<number> | undefined;
  const totalCount = () =>
    (count ??= reader
      .rows<{ n: number }>(sql`select count(*) as n from ${from} ${where(filters)}`)
      .then((r) => r[0]?.n ?? 0));
  return toPage<T>(rows, p, order, totalCount);
}

/**
 * The same page under each parent, in one statement: `parent(ref)` is the condition tying a row to the parent key `ref`.
 * Returns one page per key, in key order.
 */
export async function fetchPages<T>(
  reader: Reader,
  spec: ListSpec,
  keys: readonly string[],
  parent: (ref: Fragment) => Fragment,
  filters: Fragment[],
  order: Order,
  args: PageArgs,
  limits: PageLimits,
): Promise<Page<T>[]> {
  const p = plan(args, order, limits);
  const ref = raw("p.__parent");
  const conditions = [parent(ref), ...filters, ...p.conditions];
  const rows =
    p.n === 0 || keys.length === 0
      ? []
      : await reader.rows<Record<string, unknown>>(
          sql`select p.__parent, x.* from unnest(${keys}::text[]) with ordinality as p(__parent, __ord)
              cross join lateral (select ${raw(spec.select)}, ${keyColumns(order)} from ${raw(spec.from)} ${where(conditions)}
                                  order by ${orderBy(order, p.fromEnd)} limit ${p.n + 1}) x
              order by p.__ord, ${orderBy(order, p.fromEnd, "x.")}`,
        );
  const byParent = new Map<string, Record<string, unknown>[]>();
  for (const r of rows) {
    const k = r.__parent as string;
    const list = byParent.get(k) ?? [];
    list.push(r);
    byParent.set(k, list);
  }
  // One count statement for every parent of the batch, issued only if some totalCount is asked for.
  let counts: Promise<Map<string, number>> | undefined;
  const countAll = () =>
    (counts ??= reader
      .rows<{ k: string; n: number }>(
        sql`select p.__parent as k, (select count(*) from ${raw(spec.from)} ${where([parent(ref), ...filters])}) as n
            from unnest(${keys}::text[]) as p(__parent)`,
      )
      .then((r) => new Map(r.map((x) => [x.k, x.n]))));
  return keys.map((k) => toPage<T>(byParent.get(k) ?? [], p, order, () => countAll().then((m) => m.get(k) ?? 0)));
}
