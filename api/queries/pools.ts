/** Reads of `pools`, and the aggregates over a pool's swaps (volume windows, OHLCV candles). */
import type { Reader } from "../db.js";
import type { ListSpec } from "../page.js";
import { type Fragment, raw, sql } from "../sql.js";

/** A pool as the API reads it. */
export type PoolRow = {
  address: string;
  dex: string;
  programId: string;
  mintA: string;
  mintB: string;
  vaultA: string;
  vaultB: string;
  createdSlot: number | null;
  reserveA: string | null;
  reserveB: string | null;
  reservesSlot: number | null;
  lastSwapSlot: number | null;
  firstSeenSlot: number;
};

const SELECT = `t.address, t.dex, t.program_id as "programId", t.mint_a as "mintA", t.mint_b as "mintB", t.vault_a as "vaultA",
  t.vault_b as "vaultB", t.created_slot as "createdSlot", t.reserve_a as "reserveA", t.reserve_b as "reserveB",
  t.reserves_slot as "reservesSlot", t.last_swap_slot as "lastSwapSlot", t.first_seen_slot as "firstSeenSlot"`;

/** The pools list and its orderings. */
export const POOLS: ListSpec = {
  from: "pools t",
  select: SELECT,
  orders: {
    // A pool never swapped sorts as slot -1: after every swapped pool when descending.
    LAST_SWAP_SLOT: { name: "last_swap", cols: [{ expr: "coalesce(t.last_swap_slot, -1)", type: "int" }, { expr: "t.address", type: "text" }] },
    FIRST_SEEN_SLOT: { name: "first_seen", cols: [{ expr: "t.first_seen_slot", type: "int" }, { expr: "t.address", type: "text" }] },
    ADDRESS: { name: "address", cols: [{ expr: "t.address", type: "text" }] },
  },
};

/** Filters of `pools(where:)`. */
export type PoolWhere = { dex?: string | null; mint?: string | null; tokenA?: string | null; tokenB?: string | null; addresses?: string[] | null };

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
export function poolsByAddress(reader: Reader, addresses: readonly string[]): Promise<PoolRow[]> {
  return reader.rows<PoolRow>(sql`select ${raw(SELECT)} from pools t where t.address = any(${addresses}::text[])`);
}

/** Swap volume of a pool over a window. */
export type VolumeRow = { pool: string; swaps: number; volumeA: string; volumeB: string };

/** Volume in (from, to] for each pool, in one statement; token A volume counts A in or out, likewise B. */
export function volumes(reader: Reader, pools: readonly string[], from: Date, to: Date): Promise<VolumeRow[]> {
  return reader.rows<VolumeRow>(sql`
    select p.address as pool, count(s.pool) as swaps,
      coalesce(sum(case when s.mint_in = p.mint_a then s.amount_in else s.amount_out end), 0) as "volumeA",
      coalesce(sum(case when s.mint_in = p.mint_a then s.amount_out else s.amount_in end), 0) as "volumeB"
    from pools p left join swaps s on s.pool = p.address and s.block_time > ${from}::timestamptz and s.block_time <= ${to}::timestamptz
    where p.address = any(${pools}::text[])
    group by p.address`);
}

/** One OHLCV bucket; prices are token B per token A with decimals applied, as decimal strings. */
export type CandleRow = {
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

/**
 * Candles in [from, to) for each pool, in one statement; only buckets with swaps are returned.
 * @dev one pass over the pool's swaps: buckets by date_bin (integer arithmetic; the same UTC-aligned buckets as
 * floor(epoch / seconds) * seconds, whose numeric extract cost more than the scan), and open/close as the first and
 * last element of one ordered array_agg per bucket (swap key order: slot, position, instruction path compared as
 * numbers, 3.10 after 3.9). The decimals scale (a positive constant per pool) is applied after max/min, which it
 * does not reorder.
 */
export function candles(reader: Reader, pools: readonly string[], seconds: number, from: Date, to: Date): Promise<CandleRow[]> {
  return reader.rows<CandleRow>(sql`
    select g.pool, g.bucket, (g.r[1] * x.scale)::text as open, (g.high * x.scale)::text as high, (g.low * x.scale)::text as low,
      (g.r[cardinality(g.r)] * x.scale)::text as close, g.va as "volumeA", g.vb as "volumeB", g.swaps
    from (
      select s.pool, s.bucket,
        array_agg(s.ratio order by s.slot, s.tx_index, string_to_array(s.instruction_path, '.')::int[]) filter (where s.ratio is not null) as r,
        max(s.ratio) as high, min(s.ratio) as low, sum(s.va) as va, sum(s.vb) as vb, count(*) as swaps
      from (
        select s.pool, s.slot, s.tx_index, s.instruction_path,
          date_bin(make_interval(secs => ${seconds}::int), s.block_time, 'epoch'::timestamptz) as bucket,
          case when s.mint_in = p.mint_a then s.amount_out::numeric / nullif(s.amount_in, 0)
               else s.amount_in::numeric / nullif(s.amount_out, 0) end as ratio,
          case when s.mint_in = p.mint_a then s.amount_in else s.amount_out end as va,
          case when s.mint_in = p.mint_a then s.amount_out else s.amount_in end as vb
        from swaps s
        join pools p on p.address = s.pool
        where s.pool = any(${pools}::text[]) and s.block_time >= ${from}::timestamptz and s.block_time < ${to}::timestamptz) s
      group by s.pool, s.bucket) g
    cross join lateral (
      select power(10::numeric, coalesce((select decimals from tokens where mint = p.mint_a), 0) - coalesce((select decimals from tokens where mint = p.mint_b), 0)) as scale
      from pools p where p.address = g.pool) x
    order by g.pool, g.bucket`);
}
