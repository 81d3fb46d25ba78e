/**
 * The one-minute candles of `pool_candles`, kept from `swaps` by the store: new swaps are merged into their minutes,
 * and a minute whose swaps changed otherwise (stored again, moved, rolled back) is recomputed whole.
 * @dev names come from schema/ (columns.ts); both statements are built when the module loads.
 */
import type pg from "pg";
import { type ColumnKey, type SqlNames, columnEntries, naturalKey, overwrite, sqlNames } from "./columns.js";
import { cleanText } from "./strings.js";
import { str, time } from "./values.js";
import { type NewSwap, poolCandles, pools, swaps } from "../../schema/index.js";

const sw = sqlNames(swaps);
const swRow = sqlNames(swaps, "s");
const pl = sqlNames(pools);

/** Swaps columns as the candle statements read them, from `n` (the swaps), and pools columns from `p` (their pool). */
const sn = sqlNames(swaps, "n");
const pp = sqlNames(pools, "p");

/**
 * Price, volumes and order key of each swap, as both candle statements compute them (`n` holds the swaps, `p` its
 * pool).
 */
const SWAP_VALUES = `
  select array[${sn.slot}, ${sn.txIndex}] || instruction_path_key(${sn.instructionPath}) as k,
    case when ${sn.mintIn} = ${pp.mintA} then ${sn.amountOut}::numeric / nullif(${sn.amountIn}, 0)
         else ${sn.amountIn}::numeric / nullif(${sn.amountOut}, 0) end as ratio,
    case when ${sn.mintIn} = ${pp.mintA} then ${sn.amountIn} else ${sn.amountOut} end as va,
    case when ${sn.mintIn} = ${pp.mintA} then ${sn.amountOut} else ${sn.amountIn} end as vb`;

/** One candle per (pool, bucket) group of `n` joined to `p`: open and close by order key, signature breaking ties. */
const CANDLE_AGG = `
  array_agg(v.ratio order by v.k, ${sn.signature}) filter (where v.ratio is not null) as r,
  min(v.k) filter (where v.ratio is not null) as ok, max(v.k) filter (where v.ratio is not null) as ck,
  max(v.ratio) as high, min(v.ratio) as low, sum(v.va) as va, sum(v.vb) as vb, count(*)::int4 as n`;

const cd = sqlNames(poolCandles);
/**
 * Each pool_candles column as an expression over one group `g` (its pool and bucket, and CANDLE_AGG's values).
 * @dev every column is listed, so the insert lists and CANDLE_SELECT cover the whole table in one order.
 */
const CANDLE_VALUES: { readonly [K in ColumnKey<typeof poolCandles>]: string } = {
  pool: "g.pool",
  bucket: "g.bucket",
  open: "g.r[1]",
  high: "g.high",
  low: "g.low",
  close: "g.r[cardinality(g.r)]",
  openSlot: "g.ok[1]",
  openTxIndex: "g.ok[2]::int4",
  openPath: "g.ok[3:]::int4[]",
  closeSlot: "g.ck[1]",
  closeTxIndex: "g.ck[2]::int4",
  closePath: "g.ck[3:]::int4[]",
  volumeA: "g.va",
  volumeB: "g.vb",
  swaps: "g.n",
};
const candleKeys = columnEntries(poolCandles).map(([k]) => k as ColumnKey<typeof poolCandles>);
/** The candle insert's column list, in the table's order. */
const CANDLE_INSERT = `insert into ${cd.$table} (${candleKeys.map((k) => cd[k]).join(", ")})`;
/** One group `g` as a pool_candles row, in CANDLE_INSERT's order. */
const CANDLE_SELECT = candleKeys.map((k) => `${CANDLE_VALUES[k]} as ${cd[k]}`).join(", ");
const candleKey = naturalKey(poolCandles);

const cdOld = sqlNames(poolCandles, cd.$table);
const cdNew = sqlNames(poolCandles, "excluded");
const openKey = (t: SqlNames<typeof poolCandles>) =>
  `(array[${t.openSlot}, ${t.openTxIndex}] || ${t.openPath}::int8[])`;
const closeKey = (t: SqlNames<typeof poolCandles>) =>
  `(array[${t.closeSlot}, ${t.closeTxIndex}] || ${t.closePath}::int8[])`;
/** Whether the batch's open (close) comes before (after) the stored one. */
const earlierOpen = `(${cdNew.openSlot} is not null and (${cdOld.openSlot} is null or ${openKey(cdNew)} < ${openKey(cdOld)}))`;
const laterClose = `(${cdNew.closeSlot} is not null and (${cdOld.closeSlot} is null or ${closeKey(cdNew)} > ${closeKey(cdOld)}))`;
/** `col = excluded.col` when `cond` holds, else the stored value, for each of `keys`. */
const takeIf = (cond: string, keys: ColumnKey<typeof poolCandles>[]) =>
  keys.map((k) => `${cd[k]} = case when ${cond} then ${cdNew[k]} else ${cdOld[k]} end`).join(",\n    ");

/**
 * Merges swaps this transaction inserted (new to the table) into their minutes' candles: open and close move only
 * if the new swap comes before or after them, high and low widen, volumes and counts add up.
 * @dev only for rows the swaps upsert inserted (a row delivered again is not added twice) and whose order key is
 * unique (block mode: slot, position, instruction path); minutes with an updated or moved swap, and logs-mode rows
 * (position unknown), are recomputed instead. Same lock rule as recomputeCandles.
 */
export const MERGE_CANDLES = `
  with n as (
    select x.*, date_bin('1 minute', x.${sw.blockTime}, 'epoch'::timestamptz) as bucket
    from unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int4[], $6::text[], $7::numeric[], $8::numeric[], $9::timestamptz[])
      as x(${[sw.signature, sw.instructionPath, sw.pool, sw.slot, sw.txIndex, sw.mintIn, sw.amountIn, sw.amountOut, sw.blockTime].join(", ")})),
  g as (
    select ${sn.pool} as pool, n.bucket, ${CANDLE_AGG}
    from n join ${pl.$table} p on ${pp.address} = ${sn.pool}
    cross join lateral (${SWAP_VALUES}) v
    group by ${sn.pool}, n.bucket)
  ${CANDLE_INSERT}
  select ${CANDLE_SELECT} from g order by g.pool, g.bucket
  on conflict (${candleKey.join(", ")}) do update set
    ${takeIf(earlierOpen, ["open", "openSlot", "openTxIndex", "openPath"])},
    ${takeIf(laterClose, ["close", "closeSlot", "closeTxIndex", "closePath"])},
    ${cd.high} = greatest(${cdOld.high}, ${cdNew.high}), ${cd.low} = least(${cdOld.low}, ${cdNew.low}),
    ${cd.volumeA} = ${cdOld.volumeA} + ${cdNew.volumeA}, ${cd.volumeB} = ${cdOld.volumeB} + ${cdNew.volumeB},
    ${cd.swaps} = ${cdOld.swaps} + ${cdNew.swaps}`;

/** Merges the swaps in `rows`, new to the table, into their minutes' candles (see MERGE_CANDLES). */
export async function mergeCandles(client: pg.PoolClient, rows: NewSwap[]): Promise<void> {
  if (rows.length === 0) return;
  await client.query(MERGE_CANDLES, [
    rows.map((r) => cleanText(r.signature)),
    rows.map((r) => cleanText(r.instructionPath)),
    rows.map((r) => cleanText(r.pool)),
    rows.map((r) => r.slot),
    rows.map((r) => r.txIndex),
    rows.map((r) => cleanText(r.mintIn)),
    rows.map((r) => str(r.amountIn)),
    rows.map((r) => str(r.amountOut)),
    rows.map((r) => time(r.blockTime)),
  ]);
}

const cdRow = sqlNames(poolCandles, "c");
const cdFresh = sqlNames(poolCandles, "f");
/** Recomputes the rows of `pool_candles` for the (pool, UTC minute) of each ($1[i], $2[i]). */
export const RECOMPUTE_CANDLES = `
  with touched as (
    select distinct x.pool, date_bin('1 minute', x.t, 'epoch'::timestamptz) as bucket
    from unnest($1::text[], $2::timestamptz[]) as x(pool, t) where x.t is not null),
  fresh as (
    select ${CANDLE_SELECT}
    from (
      select u.pool, u.bucket, ${CANDLE_AGG}
      from touched u
      join ${pl.$table} p on ${pp.address} = u.pool
      -- offset 0 keeps this a per-minute index range scan (swaps_pool_time_idx), whatever the planner guesses
      cross join lateral (
        select ${[swRow.signature, swRow.slot, swRow.txIndex, swRow.instructionPath, swRow.mintIn, swRow.amountIn, swRow.amountOut].join(", ")} from ${sw.$table} s
        where ${swRow.pool} = u.pool and ${swRow.blockTime} >= u.bucket and ${swRow.blockTime} < u.bucket + interval '1 minute' offset 0) n
      cross join lateral (${SWAP_VALUES}) v
      group by u.pool, u.bucket) g),
  emptied as (
    delete from ${cd.$table} c using touched u
    where ${cdRow.pool} = u.pool and ${cdRow.bucket} = u.bucket and not exists (select 1 from fresh f where ${cdFresh.pool} = u.pool and ${cdFresh.bucket} = u.bucket))
  ${CANDLE_INSERT}
  select * from fresh order by ${cd.pool}, ${cd.bucket}
  on conflict (${candleKey.join(", ")}) do update set ${overwrite(candleKeys.map((k) => cd[k]).filter((n) => !candleKey.includes(n)))}`;

/**
 * Recomputes the one-minute candles of the (pool, minute) of each (poolAddresses[i], times[i]) from `swaps`, in one
 * statement: every such row is rewritten whole (open/close by swap key, signature breaking ties; high, low, volumes,
 * count), and one whose minute has no swap left is deleted. Null times are skipped (no candle).
 * @dev the caller must hold pg_advisory_xact_lock(SHARED_ROWS_LOCK_KEY) until commit. Under READ COMMITTED the
 * statement sees what was committed when it started; the lock makes it start after the previous holder (another
 * store batch or a rollback) committed, so whichever transaction recomputes a minute last sees every swap stored
 * in it, and two workers writing swaps of the same minute at once cannot drop each other's. Without the lock both
 * recompute from their own swaps only and the later upsert overwrites the earlier one. (In writeRows the pools
 * upsert before it also holds each pool's row to commit, which orders writers of one pool too; the lock is the rule.)
 */
export async function recomputeCandles(
  client: pg.PoolClient,
  poolAddresses: string[],
  times: (string | null)[],
): Promise<number> {
  if (poolAddresses.length === 0) return 0;
  const r = await client.query(RECOMPUTE_CANDLES, [poolAddresses, times]);
  return r.rowCount ?? 0;
}
