/** Reads of `pools`, and the aggregates over a pool's swaps (volume windows, OHLCV candles). */
import { pools } from "../../schema/index.js";
import { type Fragment, type ListSpec, type Reader, VALUE_SENSITIVE, raw, selectAll, sql } from "../sql/index.js";
import { type RecordOf, columnsOf, fromOf } from "./common.js";

/** A pool as the API reads it (not the signature that created it, which the API does not serve). */
export type PoolRecord = Omit<RecordOf<typeof pools>, "createdSignature">;

const COLUMNS = columnsOf(pools, ["createdSignature"]);
const SELECT = selectAll(COLUMNS);

/** The pools list and its orderings. */
export const POOLS: ListSpec = {
  from: fromOf(pools),
  select: SELECT,
  columns: COLUMNS,
  orders: {
    // A pool never swapped sorts as slot -1: after every swapped pool when descending.
    LAST_SWAP_SLOT: {
      name: "last_swap",
      cols: [
        { expr: `coalesce(${COLUMNS.lastSwapSlot}, -1)`, type: "int" },
        { expr: COLUMNS.address, type: "text", as: "address" },
      ],
    },
    FIRST_SEEN_SLOT: {
      name: "first_seen",
      cols: [
        { expr: COLUMNS.firstSeenSlot, type: "int", as: "firstSeenSlot" },
        { expr: COLUMNS.address, type: "text", as: "address" },
      ],
    },
    ADDRESS: { name: "address", cols: [{ expr: COLUMNS.address, type: "text", as: "address" }] },
  },
};

/** Filters of `pools(where:)`. */
export type PoolWhere = {
  dex?: string | null;
  mint?: string | null;
  tokenA?: string | null;
  tokenB?: string | null;
  addresses?: string[] | null;
};

/** SQL conditions for a PoolWhere. */
export function poolFilters(w: PoolWhere | null | undefined): Fragment[] {
  const out: Fragment[] = [];
  if (w?.dex != null) out.push(sql`t.dex = ${w.dex}`);
  if (w?.mint != null) out.push(sql`(t.mint_a = ${w.mint} or t.mint_b = ${w.mint})`);
  if (w?.tokenA != null) out.push(sql`t.mint_a = ${w.tokenA}`);
  if (w?.tokenB != null) out.push(sql`t.mint_b = ${w.tokenB}`);
  if (w?.addresses) out.push(sql`t.address = any(${w.addresses}::text[])`);
  return out;
}

/** Pools by address, in one statement. */
export function poolsByAddress(reader: Reader, addresses: readonly string[]): Promise<PoolRecord[]> {
  return reader.rows<PoolRecord>(
    sql`select ${raw(SELECT)} from ${raw(POOLS.from)} where t.address = any(${addresses}::text[])`,
  );
}

/**
 * The pools that the rows of `rows` (a page's subquery with a `pool` column, see pageSubquery) point at, in one
 * statement: one row per distinct address, with the pool's columns null when it is not stored.
 */
export function poolsOfRows(reader: Reader, rows: Fragment): Promise<(Partial<PoolRecord> & { key: string })[]> {
  return reader.rows(
    sql`select x.pool as key, ${raw(SELECT)} from (select distinct r.pool from (${rows}) r) x left join ${raw(POOLS.from)} on t.address = x.pool`,
    VALUE_SENSITIVE,
  );
}

/** Swap volume of a pool over a window. */
export type VolumeRecord = { pool: string; swaps: number; volumeA: string; volumeB: string };

/** Volume in (from, to] for each pool, in one statement; token A volume counts A in or out, likewise B. */
export function volumes(reader: Reader, pools: readonly string[], from: Date, to: Date): Promise<VolumeRecord[]> {
  return reader.rows<VolumeRecord>(sql`
    select p.address as pool, count(s.pool) as swaps,
      coalesce(sum(case when s.mint_in = p.mint_a then s.amount_in else s.amount_out end), 0) as "volumeA",
      coalesce(sum(case when s.mint_in = p.mint_a then s.amount_out else s.amount_in end), 0) as "volumeB"
    from pools p left join swaps s on s.pool = p.address and s.block_time > ${from}::timestamptz and s.block_time <= ${to}::timestamptz
    where p.address = any(${pools}::text[])
    group by p.address`);
}

/** One OHLCV bucket; prices are token B per token A with decimals applied, as decimal strings. */
export type CandleRecord = {
  pool: string;
  bucket: Date;
  open: string | null;
  high: string | null;
  low: string | null;
  close: string | null;
  volumeA: string;
  volumeB: string;
  swaps: number;
};

/** One minute in milliseconds: pool_candles' bucket width. */
const MINUTE_MS = 60_000;

/**
 * Candles in [from, to) for each pool, in one statement; only buckets with swaps are returned.
 * @dev the whole minutes inside [from, to) come from pool_candles (one row per pool and UTC minute, kept by the
 * store), the partial minutes at either edge from the swaps themselves, unless the pool has no swap in the part of
 * that minute outside [from, to) (the usual tail: `to` defaults to just after the newest block), when its candle is
 * exactly the part inside. The parts are merged into the interval's buckets (date_bin; every interval is whole
 * minutes, so a minute lies in one bucket): open from the part whose open swap key is smallest, close from the part
 * whose close swap key is largest (slot, position, instruction path compared as numbers, 3.10 after 3.9; signature
 * breaks ties, as in the store), high/low as max/min, volumes and counts summed. Prices stay raw ratios until the
 * end, where the decimals scale (a positive constant per pool) is applied once, as it does not reorder max/min.
 * An interval that is not whole minutes, or a range inside one minute, reads every swap in [from, to).
 */
export function candles(
  reader: Reader,
  pools: readonly string[],
  seconds: number,
  from: Date,
  to: Date,
): Promise<CandleRecord[]> {
  const firstWhole = Math.ceil(from.getTime() / MINUTE_MS) * MINUTE_MS;
  const lastWhole = Math.floor(to.getTime() / MINUTE_MS) * MINUTE_MS;
  const byMinute = seconds % 60 === 0 && firstWhole < lastWhole;
  // Swaps in [from, headEnd) and [tailStart, to), pool_candles in [headEnd, tailStart) ...
  const headEnd = byMinute ? new Date(firstWhole) : to;
  const tailStart = byMinute ? new Date(lastWhole) : to;
  // ... or from headMinute / up to tailEnd for a pool with no swap in [headMinute, from) / [to, tailEnd).
  const headMinute = byMinute && firstWhole !== from.getTime() ? new Date(firstWhole - MINUTE_MS) : null;
  const tailEnd = byMinute && lastWhole !== to.getTime() ? new Date(lastWhole + MINUTE_MS) : null;
  return reader.rows<CandleRecord>(sql`
    with e as (
      select e.pool,
        case when e.head_whole then ${headMinute}::timestamptz else ${headEnd}::timestamptz end as c_from,
        case when e.tail_whole then ${tailEnd}::timestamptz else ${tailStart}::timestamptz end as c_to,
        case when e.head_whole then ${from}::timestamptz else ${headEnd}::timestamptz end as head_to,
        case when e.tail_whole then ${to}::timestamptz else ${tailStart}::timestamptz end as tail_from,
        e.mint_a, e.scale
      from (
        select e.pool, x.mint_a, x.scale,
          ${headMinute}::timestamptz is not null and not exists (
            select 1 from swaps s where s.pool = e.pool and s.block_time >= ${headMinute}::timestamptz and s.block_time < ${from}::timestamptz) as head_whole,
          ${tailEnd}::timestamptz is not null and not exists (
            select 1 from swaps s where s.pool = e.pool and s.block_time >= ${to}::timestamptz and s.block_time < ${tailEnd}::timestamptz) as tail_whole
        from (select distinct unnest(${pools}::text[]) as pool) e
        -- the pool's mint A and decimals scale, once per pool (index lookups, also in a generic plan)
        cross join lateral (
          select p.mint_a, power(10::numeric, coalesce((select t.decimals from tokens t where t.mint = p.mint_a), 0)
                                            - coalesce((select t.decimals from tokens t where t.mint = p.mint_b), 0)) as scale
          from pools p where p.address = e.pool offset 0) x
        offset 0) e)
    select g.pool, g.bucket, (g.o[1] * e.scale)::text as open, (g.high * e.scale)::text as high, (g.low * e.scale)::text as low,
      (g.c[1] * e.scale)::text as close, g.va as "volumeA", g.vb as "volumeB", g.swaps
    from (
      select m.pool, date_bin(make_interval(secs => ${seconds}::int), m.t, 'epoch'::timestamptz) as bucket,
        array_agg(m.open order by m.o_slot, m.o_tx, m.o_path, m.sig) filter (where m.open is not null) as o,
        array_agg(m.close order by m.c_slot desc, m.c_tx desc, m.c_path desc, m.sig desc) filter (where m.close is not null) as c,
        max(m.high) as high, min(m.low) as low, sum(m.va) as va, sum(m.vb) as vb, sum(m.n)::int8 as swaps
      from (
        select e.pool, c.bucket as t, null::text as sig, c.open, c.open_slot as o_slot, c.open_tx_index as o_tx, c.open_path as o_path,
          c.close, c.close_slot as c_slot, c.close_tx_index as c_tx, c.close_path as c_path, c.high, c.low, c.volume_a as va, c.volume_b as vb, c.swaps as n
        -- offset 0: each pool's own index range scan, also in a generic plan of the prepared statement
        from e cross join lateral (
          select * from pool_candles c where c.pool = e.pool and c.bucket >= e.c_from and c.bucket < e.c_to offset 0) c
        union all
        select e.pool, s.block_time, s.signature, v.ratio, s.slot, s.tx_index, v.path, v.ratio, s.slot, s.tx_index, v.path, v.ratio, v.ratio, v.va, v.vb, 1
        from e
        cross join lateral (
          select s.block_time, s.signature, s.slot, s.tx_index, s.instruction_path, s.mint_in, s.amount_in, s.amount_out from swaps s
          where s.pool = e.pool and ((s.block_time >= ${from}::timestamptz and s.block_time < e.head_to)
                                  or (s.block_time >= e.tail_from and s.block_time < ${to}::timestamptz)) offset 0) s
        cross join lateral (
          select instruction_path_key(s.instruction_path)::int[] as path,
            case when s.mint_in = e.mint_a then s.amount_out::numeric / nullif(s.amount_in, 0)
                 else s.amount_in::numeric / nullif(s.amount_out, 0) end as ratio,
            case when s.mint_in = e.mint_a then s.amount_in else s.amount_out end as va,
            case when s.mint_in = e.mint_a then s.amount_out else s.amount_in end as vb) v) m
      group by m.pool, 2) g
    join e on e.pool = g.pool
    order by g.pool, g.bucket`);
}
