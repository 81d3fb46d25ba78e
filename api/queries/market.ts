/**
 * Reads of the market rollups (`market_stats`, `market_traders`, kept by the pricing stage): buckets over a time
 * range, window summaries (1 h, 24 h, 7 d) and USD candles, each for many keys in one statement.
 * @dev windows end at the chain's clock as the pricing stage knows it: the block time of the newest indexed slot at or
 * below its cursor (`pricedNow`), never the wall clock, so a replay answers the same.
 */
import { getTableColumns, getTableName } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import {
  cursors,
  marketStats,
  marketTraders,
  poolTvl,
  pools,
  slots,
  tokenPrices,
  tokens,
  transactions,
} from "../../schema/index.js";
import { type Reader, raw, sql } from "../sql/index.js";
import { newestOf } from "./common.js";

/** A table's SQL name (`$`) and its columns' SQL names, as raw fragments. */
export function names<T extends PgTable>(table: T) {
  const out: Record<string, ReturnType<typeof raw>> = { $: raw(getTableName(table)) };
  for (const [k, c] of Object.entries(getTableColumns(table))) out[k] = raw(c.name);
  return out as { [K in keyof T["_"]["columns"] | "$"]: ReturnType<typeof raw> };
}
const MS = names(marketStats);
const MT = names(marketTraders);
const SL = names(slots);
const TX = names(transactions);
const CU = names(cursors);
const TP = names(tokenPrices);
const PT = names(poolTvl);
const PL = names(pools);
const TK = names(tokens);

/** What a rollup is about. */
export type MarketKind = "token" | "pool" | "dex";
/** A rollup width. */
export type MarketInterval = "hour" | "day";

/** One rollup bucket of a token, pool or DEX. */
export type MarketBucketRecord = {
  entity: string;
  bucket: Date;
  volumeUsd: string;
  trades: number;
  buys: number;
  sells: number;
  traders: number;
};

/**
 * The chain's clock as priced: the newest indexed block time at or below the pricing cursor (null before any); in
 * logs mode, which stores no `slots` rows, the newest stored transaction's.
 */
export async function pricedNow(reader: Reader): Promise<Date | null> {
  const r = await reader.rows<{ t: Date | null }>(sql`
    with c as (select ${CU.slot} as s from ${CU.$} where ${CU.id} = 'pricing')
    select coalesce(
      (select ${SL.blockTime} from ${SL.$} where ${SL.slot} <= (select s from c)
        and ${SL.status} = 'indexed' and ${SL.blockTime} is not null order by ${SL.slot} desc limit 1),
      (select ${TX.blockTime} from ${TX.$} where ${TX.slot} <= (select s from c)
        and ${TX.blockTime} is not null order by ${TX.slot} desc limit 1)) as t`);
  return r[0]?.t ?? null;
}

/** Buckets in [from, to) of each entity (every entity of the kind when `entities` is null), oldest first. */
export function marketBuckets(
  reader: Reader,
  kind: MarketKind,
  entities: readonly string[] | null,
  interval: MarketInterval,
  from: Date,
  to: Date,
): Promise<MarketBucketRecord[]> {
  const which = entities == null ? sql`true` : sql`${MS.entity} = any(${entities}::text[])`;
  return reader.rows<MarketBucketRecord>(sql`
    select ${MS.entity} as entity, ${MS.bucket} as bucket, trim_scale(${MS.volumeUsd})::text as "volumeUsd",
      ${MS.trades} as trades, ${MS.buys} as buys, ${MS.sells} as sells, ${MS.traders} as traders
    from ${MS.$} where ${MS.kind} = ${kind} and ${MS.interval} = ${interval} and ${which}
      and ${MS.bucket} >= ${from}::timestamptz and ${MS.bucket} < ${to}::timestamptz
    order by ${MS.bucket}, ${MS.entity}`);
}

/** Hours in each window a summary reports. */
export const WINDOW_HOURS = { h1: 1, h24: 24, d7: 168 } as const;

/** One window's figures: the hourly buckets from `from` (whole hours) to the priced clock. */
export type MarketWindowRecord = {
  from: Date;
  volumeUsd: string;
  trades: number;
  buys: number;
  sells: number;
  /**
   * the change of the price (percent, 6 decimals) from the window's start (the latest price with a block time before
   * `from`) to the latest; null for pools and without both prices
   */
  priceChangePct: string | null;
};

/**
 * Each entity's windows (h1, h24, d7) ending at `now`, in one statement. Their distinct traders are read apart
 * (windowTraders), only for the windows a query asks them of: counting them reads every trader row of the window.
 */
export async function marketWindows(
  reader: Reader,
  kind: MarketKind,
  entities: readonly string[],
  now: Date,
): Promise<{ entity: string; windows: Record<keyof typeof WINDOW_HOURS, MarketWindowRecord> }[]> {
  const rows = await reader.rows<MarketWindowRecord & { entity: string; w: keyof typeof WINDOW_HOURS }>(sql`
    with w(w, f) as (select * from unnest(${Object.keys(WINDOW_HOURS)}::text[],
        ${Object.values(WINDOW_HOURS).map((h) => h - 1)}::int[])),
      e(entity) as (select * from unnest(${entities}::text[]))
    select e.entity, w.w, b.f as from, coalesce(trim_scale(s.v), 0)::text as "volumeUsd", coalesce(s.trades, 0)::int as trades,
      coalesce(s.buys, 0)::int as buys, coalesce(s.sells, 0)::int as sells,
      ${
        kind === "token" ? sql`trim_scale(round((c.unit / nullif(o.unit, 0) - 1) * 100, 6))::text` : sql`null::text`
      } as "priceChangePct"
    from e cross join w
      cross join lateral (select date_bin('1 hour', ${now}::timestamptz, timestamptz 'epoch') - make_interval(hours => w.f) as f) b
      cross join lateral (select sum(${MS.volumeUsd}) as v, sum(${MS.trades}) as trades, sum(${MS.buys}) as buys,
          sum(${MS.sells}) as sells from ${MS.$}
        where ${MS.kind} = ${kind} and ${MS.entity} = e.entity and ${MS.interval} = 'hour' and ${MS.bucket} >= b.f) s
      ${
        kind === "token"
          ? sql`left join lateral (select ${TP.unitPriceUsd} as unit from ${TP.$}
        where ${TP.mint} = e.entity and ${TP.blockTime} < b.f order by ${TP.blockTime} desc, ${TP.slot} desc limit 1) o on true
      left join lateral (select ${TP.unitPriceUsd} as unit from ${TP.$}
        where ${newestOf(TP.mint, raw("e.entity"), TP.slot)} limit 1) c on true`
          : raw("")
      }`);
  const by = new Map<string, Record<string, MarketWindowRecord>>();
  for (const r of rows) {
    const { entity, w, ...rest } = r;
    by.set(entity, { ...(by.get(entity) ?? {}), [w]: rest });
  }
  return entities.map((entity) => ({
    entity,
    windows: by.get(entity) as Record<keyof typeof WINDOW_HOURS, MarketWindowRecord>,
  }));
}

/** A window whose distinct traders are asked for: an entity's hourly buckets from `from` on. */
export type TraderWindow = { kind: MarketKind; entity: string; from: Date };

/**
 * The distinct traders of each window (in the order given), in one statement: the entity's `market_traders` rows of
 * the hours from the window's start, grouped by trader (hashed, where count(distinct) would sort).
 */
export async function windowTraders(reader: Reader, windows: readonly TraderWindow[]): Promise<number[]> {
  const rows = await reader.rows<{ i: string; n: number }>(sql`
    select k.i::text as i, (select count(*) from (select 1 from ${MT.$}
        where ${MT.kind} = k.kind and ${MT.entity} = k.entity and ${MT.interval} = 'hour' and ${MT.bucket} >= k.f
        group by ${MT.trader}) x)::int as n
    from unnest(${windows.map((w) => w.kind)}::text[], ${windows.map((w) => w.entity)}::text[],
      ${windows.map((w) => w.from.toISOString())}::timestamptz[]) with ordinality as k(kind, entity, f, i)`);
  const n = new Map(rows.map((r) => [Number(r.i), r.n]));
  return windows.map((_, i) => n.get(i + 1) ?? 0);
}

/** Each mint's liquidity: the TVL of every pool trading it (its latest pool_tvl row), summed; null without any. */
export function tokenLiquidity(
  reader: Reader,
  mints: readonly string[],
): Promise<{ mint: string; liquidityUsd: string | null }[]> {
  return reader.rows(sql`
    select m as mint, trim_scale(sum(v.tvl))::text as "liquidityUsd"
    from unnest(${mints}::text[]) m
    left join lateral (
      select ${PL.address} as address from ${PL.$} where ${PL.mintA} = m
      union select ${PL.address} from ${PL.$} where ${PL.mintB} = m) p on true
    left join lateral (select ${PT.tvlUsd} as tvl from ${PT.$}
      where ${newestOf(PT.pool, raw("p.address"), PT.slot)} limit 1) v on true
    group by m`);
}

/** One USD candle of a token: its price per whole token (as the pricing stage set it) and its trades' volume. */
export type UsdCandleRecord = {
  mint: string;
  bucket: Date;
  open: string | null;
  high: string | null;
  low: string | null;
  close: string | null;
  volumeUsd: string;
  trades: number;
};

/**
 * USD candles in [from, to) for each mint: OHLC from its prices (token_prices rows, in slot order, times 10^decimals),
 * volume and trades from its rollups; a bucket with either is returned. A mint whose decimals are unknown has no
 * prices.
 */
export function usdCandles(
  reader: Reader,
  mints: readonly string[],
  interval: MarketInterval,
  from: Date,
  to: Date,
): Promise<UsdCandleRecord[]> {
  const width = interval === "hour" ? "1 hour" : "1 day";
  return reader.rows<UsdCandleRecord>(sql`
    with p as (
      select tp.${TP.mint} as mint, date_bin(${width}::interval, tp.${TP.blockTime}, timestamptz 'epoch') as bucket,
        tp.${TP.unitPriceUsd} * 10::numeric ^ k.${TK.decimals} as price, tp.${TP.slot} as slot
      from ${TP.$} tp join ${TK.$} k on k.${TK.mint} = tp.${TP.mint} and k.${TK.decimals} is not null
      where tp.${TP.mint} = any(${mints}::text[]) and tp.${TP.blockTime} >= ${from}::timestamptz
        and tp.${TP.blockTime} < ${to}::timestamptz),
    c as (
      select mint, bucket, (array_agg(price order by slot))[1] as open, max(price) as high, min(price) as low,
        (array_agg(price order by slot desc))[1] as close
      from p group by mint, bucket),
    v as (
      select ${MS.entity} as mint, ${MS.bucket} as bucket, ${MS.volumeUsd} as volume, ${MS.trades} as trades from ${MS.$}
      where ${MS.kind} = 'token' and ${MS.entity} = any(${mints}::text[]) and ${MS.interval} = ${interval}
        and ${MS.bucket} >= ${from}::timestamptz and ${MS.bucket} < ${to}::timestamptz)
    select mint, bucket, trim_scale(round(c.open, 18))::text as open, trim_scale(round(c.high, 18))::text as high,
      trim_scale(round(c.low, 18))::text as low, trim_scale(round(c.close, 18))::text as close,
      coalesce(trim_scale(v.volume), 0)::text as "volumeUsd", coalesce(v.trades, 0)::int as trades
    from c full join v using (mint, bucket)
    order by mint, bucket`);
}

export { POOL_RANKINGS, TOKEN_RANKINGS } from "../../schema/index.js";

/** Filters of a ranking: on the entity's figures at the ranking's generation. */
export type RankingWhere = { minLiquidityUsd?: string | null; dex?: string | null; createdAfter?: Date | null };

/** The newest ranking generation of a kind (null before the pricing stage has written one). */
export async function latestRanking(reader: Reader, kind: "token" | "pool"): Promise<number | null> {
  const r = await reader.rows<{ g: string | null }>(
    sql`select max(generation)::text as g from market_rankings where kind = ${kind}`,
  );
  return r[0]?.g == null ? null : Number(r[0].g);
}

/**
 * Up to `n` entities after `afterRank` in one generation's ordering, filtered, in rank order; `exists` is false when
 * that generation is gone (pruned or rewound).
 */
export async function rankingPage(
  reader: Reader,
  kind: "token" | "pool",
  ordering: string,
  generation: number,
  afterRank: number,
  n: number,
  w: RankingWhere | null | undefined,
): Promise<{ exists: boolean; rows: { entity: string; rank: number }[] }> {
  const filters = [
    w?.minLiquidityUsd == null ? raw("") : sql` and liquidity_usd >= ${w.minLiquidityUsd}::numeric`,
    w?.dex == null ? raw("") : sql` and ${w.dex} = any(dexes)`,
    w?.createdAfter == null ? raw("") : sql` and created_at > ${w.createdAfter}::timestamptz`,
  ];
  const rows = await reader.rows<{ entity: string | null; rank: number | null }>(sql`
    select r.entity, r.rank from (select 1) one
    left join lateral (select entity, rank from market_rankings
      where kind = ${kind} and ordering = ${ordering} and generation = ${generation} and rank > ${afterRank}
        ${filters[0]!}${filters[1]!}${filters[2]!}
      order by rank limit ${n}) r on true
    where r.entity is not null or exists (select 1 from market_rankings
      where kind = ${kind} and ordering = ${ordering} and generation = ${generation})`);
  if (rows.length === 0) return { exists: false, rows: [] };
  return {
    exists: true,
    rows: rows.filter((r) => r.entity != null).map((r) => ({ entity: r.entity!, rank: Number(r.rank) })),
  };
}
