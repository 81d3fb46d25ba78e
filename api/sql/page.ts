/**
 * Keyset pagination (never OFFSET): one page of a list, or the first page of a list under each of many parents
 * in one statement (a LATERAL join over the parents' keys).
 * @dev the last column of every ordering is unique (within the list's parent, for a list only read under one), so
 * positions are total and cursors stay stable while rows are inserted. Columns of an ordering share one direction, so
 * a row comparison can use the index, unless one is `flip`ped to match an index of mixed directions (holders: amount
 * desc, owner asc); then the cursor's condition bounds the first column, which the index uses, and compares the rest.
 */
import { type KeyType, decodeCursor, encodeCursor } from "./cursor.js";
import { type Reader, VALUE_SENSITIVE } from "./reader.js";
import { apiError } from "../errors.js";
import { type Fragment, join, raw, sql, where } from "./sql.js";

/**
 * One ordering of a list: its key columns (SQL expressions over alias `t`), the last one unique. `as` names the
 * column of the list's select that already holds the same value, which is then not selected a second time.
 */
export type OrderSpec = {
  name: string;
  /**
   * `flip`: the column sorts against the ordering's direction (ascending in a descending list, and back).
   * `descNullsLast`: its index sorts it DESC NULLS LAST (drizzle-kit's `.desc()`), which Postgres' default DESC (NULLS
   * FIRST) does not match even on a NOT NULL column: the page says so, descending, and NULLS FIRST ascending (the
   * index read backward), so the index gives the order instead of a sort of every row.
   */
  cols: readonly { expr: string; type: KeyType; as?: string; flip?: boolean; descNullsLast?: boolean }[];
};

/** The result column holding key column `i` of an ordering. */
const keyName = (c: OrderSpec["cols"][number], i: number) => c.as ?? `__k${i}`;

/**
 * The columns of a list's rows: each row property's expression over alias `t` (api/queries derives them from the
 * drizzle tables). A page selects only the properties its query's node fields read, and its ordering's keys: most of a
 * page's cost in the API and in Postgres is the columns it carries.
 */
export type Columns = Readonly<Record<string, string>>;

/** The select list of every property of `columns` (`t.x as "x"`, or `t.x` where the names agree). */
export function selectAll(columns: Columns): string {
  return Object.keys(columns)
    .map((p) => (columns[p] === `t.${p}` ? columns[p] : `${columns[p]} as "${p}"`))
    .join(", ");
}

/**
 * A list: what to select from where, and its orderings. With `columns`, a page selects what its query reads
 * (selectFor); without, or when its query reads a property `columns` does not hold, it selects `select`.
 */
export type ListSpec = { from: string; select: string; orders: Record<string, OrderSpec>; columns?: Columns };

/** The row properties a page's query reads of each node (lookahead.ts nodeReads); null or absent: every column. */
export type NodeFields = ReadonlySet<string> | null | undefined;

const selects = new WeakMap<ListSpec, Map<string, string>>();

/** The select list of a page of `spec` in `order` whose query reads properties `fields` of each node. */
export function selectFor(spec: ListSpec, order: Order, fields: NodeFields): string {
  const columns = spec.columns;
  if (!columns || !fields) return spec.select;
  let byKey = selects.get(spec);
  if (!byKey) selects.set(spec, (byKey = new Map()));
  const key = `${order.spec.name}|${[...fields].join(",")}`;
  let select = byKey.get(key);
  if (select !== undefined) return select;
  const props = new Set<string>();
  for (const f of fields) {
    if (f.startsWith("__")) continue; // __typename reads nothing
    if (!Object.hasOwn(columns, f)) return spec.select; // a property this list does not describe: every column
    props.add(f);
  }
  for (const c of order.spec.cols) if (c.as) props.add(c.as);
  // In declaration order, so the same fields give the same text (one prepared statement, and a prefetch matches).
  const kept = Object.keys(columns).filter((p) => props.has(p));
  if (kept.length === 0) kept.push(Object.keys(columns)[0]!);
  select = selectAll(Object.fromEntries(kept.map((p) => [p, columns[p]!])));
  if (byKey.size < 1_000) byKey.set(key, select);
  return select;
}

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

const CASTS: Record<KeyType, string> = { int: "int8", text: "text", numeric: "numeric" };

/** A cursor's key value as a typed parameter: `$1::int8`. */
const keyParam = (v: number | string, type: KeyType) => sql`${v}::${raw(CASTS[type])}`;

/** A cursor's key as typed parameters: `($1::int8, $2::text)`. */
function keyParams(key: (number | string)[], types: readonly KeyType[]): Fragment {
  return sql`(${join(
    key.map((v, i) => keyParam(v, types[i]!)),
    ", ",
  )})`;
}

/**
 * Rows past `key` in the ordering, read in direction `desc` (the list's, or its reverse for `before`). With every
 * column in one direction, one row comparison; with a flipped column, the first column's bound (which an index on the
 * columns' own directions starts its scan at) and the comparison spelled out column by column.
 */
function beyond(spec: OrderSpec, key: (number | string)[], desc: boolean): Fragment {
  const cols = spec.cols;
  const types = cols.map((c) => c.type);
  if (!cols.some((c) => c.flip)) {
    const tuple = raw(`(${cols.map((c) => c.expr).join(", ")})`);
    return sql`${tuple} ${raw(desc ? "<" : ">")} ${keyParams(key, types)}`;
  }
  const op = (i: number) => (desc !== !!cols[i]!.flip ? "<" : ">");
  const col = (i: number) => raw(cols[i]!.expr);
  const from = (i: number): Fragment => {
    const past = sql`${col(i)} ${raw(op(i))} ${keyParam(key[i]!, types[i]!)}`;
    if (i === cols.length - 1) return past;
    return sql`(${past} or (${col(i)} = ${keyParam(key[i]!, types[i]!)} and ${from(i + 1)}))`;
  };
  return sql`${col(0)} ${raw(op(0))}= ${keyParam(key[0]!, types[0]!)} and ${from(0)}`;
}

function plan(args: PageArgs, order: Order, limits: PageLimits): Plan {
  if (args.first != null && args.last != null) throw apiError("BAD_USER_INPUT", "Pass either first or last, not both.");
  const n = args.first ?? args.last ?? limits.defaultFirst;
  if (n < 0) throw apiError("BAD_USER_INPUT", "first and last must not be negative.");
  if (n > limits.maxFirst) throw apiError("FIRST_LIMIT", `first and last are limited to ${limits.maxFirst}.`);
  const types = order.spec.cols.map((c) => c.type);
  const conditions: Fragment[] = [];
  if (args.after) conditions.push(beyond(order.spec, decodeCursor(args.after, order.spec.name, types).key, order.desc));
  if (args.before)
    conditions.push(beyond(order.spec, decodeCursor(args.before, order.spec.name, types).key, !order.desc));
  return {
    n,
    fromEnd: args.first == null && args.last != null,
    conditions,
    after: !!args.after,
    before: !!args.before,
  };
}

function orderBy(order: Order, reverse: boolean, prefix = ""): Fragment {
  const dir = (c: OrderSpec["cols"][number]) => {
    const desc = (order.desc !== reverse) !== !!c.flip;
    return c.descNullsLast ? (desc ? "desc nulls last" : "asc nulls first") : desc ? "desc" : "asc";
  };
  return raw(order.spec.cols.map((c, i) => `${prefix ? `${prefix}"${keyName(c, i)}"` : c.expr} ${dir(c)}`).join(", "));
}

/** `, expr as __k0, ...` for the key columns the select does not already hold (possibly nothing). */
function keyColumns(order: Order): Fragment {
  return raw(order.spec.cols.map((c, i) => (c.as ? "" : `, ${c.expr} as __k${i}`)).join(""));
}

/** An edge; its cursor is encoded only when asked for (most pages read a few at most). */
class Edge<T> {
  constructor(
    readonly node: T,
    private readonly order: Order,
  ) {}
  get cursor(): string {
    const row = this.node as Record<string, unknown>;
    return encodeCursor(
      this.order.spec.name,
      this.order.spec.cols.map((c, i) => row[keyName(c, i)] as number | string),
    );
  }
}

/** pageInfo, with its cursors encoded on demand like the edges'. */
class PageInfo<T> {
  constructor(
    readonly hasNextPage: boolean,
    readonly hasPreviousPage: boolean,
    private readonly edges: Edge<T>[],
  ) {}
  get startCursor(): string | null {
    return this.edges[0]?.cursor ?? null;
  }
  get endCursor(): string | null {
    return this.edges.at(-1)?.cursor ?? null;
  }
}

function toPage<T>(rows: Record<string, unknown>[], p: Plan, order: Order, totalCount: () => Promise<number>): Page<T> {
  const more = rows.length > p.n;
  const kept = rows.length > p.n ? rows.slice(0, p.n) : rows;
  if (p.fromEnd) kept.reverse();
  const edges: Edge<T>[] = new Array(kept.length);
  for (let i = 0; i < kept.length; i++) edges[i] = new Edge(kept[i] as T, order);
  // Without a cursor on that side, nothing lies beyond it; with one, the cursor's own row does.
  const pageInfo = new PageInfo(p.fromEnd ? p.before : more, p.fromEnd ? more : p.after, edges);
  return { edges, pageInfo, totalCount };
}

/**
 * The rows of the page fetchPage would read, as a subquery selecting `select` (over alias `t`): for a statement that
 * reads what the page's rows point at in the same batch as the page itself. Throws as fetchPage does on bad arguments.
 * Like the page's own, a statement over it is value-sensitive (Reader.rows).
 */
export function pageSubquery(
  spec: ListSpec,
  filters: Fragment[],
  order: Order,
  args: PageArgs,
  limits: PageLimits,
  select: string,
): Fragment {
  const p = plan(args, order, limits);
  return sql`select ${raw(select)} from ${raw(spec.from)} ${where([...filters, ...p.conditions])} order by ${orderBy(order, p.fromEnd)} limit ${p.n + 1}`;
}

/** One page of a list filtered by `filters`, selecting what `fields` read (selectFor). */
export async function fetchPage<T>(
  reader: Reader,
  spec: ListSpec,
  filters: Fragment[],
  order: Order,
  args: PageArgs,
  limits: PageLimits,
  fields?: NodeFields,
): Promise<Page<T>> {
  const p = plan(args, order, limits);
  const from = raw(spec.from);
  const rows =
    p.n === 0
      ? []
      : await reader.rows<Record<string, unknown>>(
          sql`select ${raw(selectFor(spec, order, fields))}${keyColumns(order)} from ${from} ${where([...filters, ...p.conditions])}
              order by ${orderBy(order, p.fromEnd)} limit ${p.n + 1}`,
          // a request's filters pick the plan: a busy mint is best read along the slot index, a quiet one along its own
          VALUE_SENSITIVE,
        );
  let count: Promise<number> | undefined;
  return toPage<T>(
    rows,
    p,
    order,
    () =>
      (count ??= reader
        .rows<{ n: number }>(sql`select count(*) as n from ${from} ${where(filters)}`, VALUE_SENSITIVE)
        .then((r) => r[0]?.n ?? 0)),
  );
}

/**
 * The same page under each parent, in one statement: `parent(ref)` is the condition tying a row to the parent key
 * `ref`.
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
  fields?: NodeFields,
): Promise<Page<T>[]> {
  const p = plan(args, order, limits);
  const ref = raw("p.__parent");
  const conditions = [parent(ref), ...filters, ...p.conditions];
  if (p.n === 0 || keys.length === 0) return build<T>([], reader, spec, keys, parent, filters, p, order);
  const statement = reader.rows<Record<string, unknown>>(
    sql`select p.__parent, x.* from unnest(${keys}::text[]) with ordinality as p(__parent, __ord)
        cross join lateral (select ${raw(selectFor(spec, order, fields))}${keyColumns(order)} from ${raw(spec.from)} ${where(conditions)}
                            order by ${orderBy(order, p.fromEnd)} limit ${p.n + 1}) x
        order by p.__ord, ${orderBy(order, p.fromEnd, "x.")}`,
  );
  // The reader hands back the same promise for the same statement (a prefetch, then the loader it was for): the
  // same statement gives the same pages, so they are built once.
  const memo = statement as Promise<unknown> & { [BUILT]?: Promise<Page<unknown>[]> };
  return (memo[BUILT] ??= statement.then((rows) =>
    build<T>(rows, reader, spec, keys, parent, filters, p, order),
  )) as Promise<Page<T>[]>;
}

/**
 * Pages already built from a statement's rows (see fetchPages), kept on the statement's promise itself.
 * @dev not a WeakMap keyed by the promise: V8's young-generation collections keep a long-lived WeakMap's values alive
 * until the next full collection, and these values hold the request's rows, so every page's rows were promoted to
 * the old generation (measured with --trace-gc-nvp: a WeakMap of 50-row values keyed by short-lived objects promoted
 * 0.8 MB per scavenge and forced 59 full collections in 3 s; without it, none).
 */
const BUILT = Symbol("slotline.pages");

function build<T>(
  rows: Record<string, unknown>[],
  reader: Reader,
  spec: ListSpec,
  keys: readonly string[],
  parent: (ref: Fragment) => Fragment,
  filters: Fragment[],
  p: Plan,
  order: Order,
): Page<T>[] {
  const ref = raw("p.__parent");
  const byParent = new Map<string, Record<string, unknown>[]>();
  for (const r of rows) {
    const k = r.__parent as string;
    const list = byParent.get(k);
    if (list) list.push(r);
    else byParent.set(k, [r]);
  }
  // One count statement for every parent of the batch, issued only if some totalCount is asked for.
  let counts: Promise<Map<string, number>> | undefined;
  const countOf = (k: string) =>
    (counts ??= reader
      .rows<{ k: string; n: number }>(
        sql`select p.__parent as k, (select count(*) from ${raw(spec.from)} ${where([parent(ref), ...filters])}) as n
              from unnest(${keys}::text[]) as p(__parent)`,
      )
      .then((r) => new Map(r.map((x) => [x.k, x.n])))).then((m) => m.get(k) ?? 0);
  return keys.map((k) => toPage<T>(byParent.get(k) ?? [], p, order, () => countOf(k)));
}
