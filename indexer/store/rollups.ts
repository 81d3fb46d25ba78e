/**
 * The market rollups (`market_stats`, `market_traders`): hourly and daily volume, trades, buys, sells and unique
 * traders per token, pool and DEX. The pricing stage adds each run's slots to them once it has priced those slots;
 * a rewind of that stage recomputes the rows that held slots at or above the rewind point from the rows below it.
 * Both go through one statement, so a row is the same aggregate whichever way its slots reached it.
 * @dev a bucket is date_bin of the row's block time (its slot's) on the epoch; rows without a block time are in no
 * bucket.
 */
import type pg from "pg";
import { marketStats, marketTraders, pools, swaps, trades } from "../../schema/index.js";
import { sqlNames } from "./columns.js";

/** The lock a rewind of the rollups holds until commit: two rewinds never recompute the same rows at once. */
export const ROLLUP_LOCK_KEY = 7_462_010_005;

const ms = sqlNames(marketStats);
const mt = sqlNames(marketTraders);
const mtRow = sqlNames(marketTraders, "m");
const tr = sqlNames(trades, "t");
const sw = sqlNames(swaps, "s");
const pl = sqlNames(pools, "p");

/** `from <rows>` over slots in ($1, $2], rows with a block time only. */
const timed = (table: string, alias: string, slot: string, time: string) =>
  `from ${table} ${alias} where ${slot} > $1 and ${slot} <= $2 and ${time} is not null`;

/**
 * Every priced row of the range as (kind, entity, trader, slot, time, value, buy, sell).
 * @dev the time is the row's own block time, its slot's: logs mode stores no `slots` row to read it from.
 */
const SOURCE = `
  select 'token' as kind, ${tr.soldMint} as entity, ${tr.trader} as trader, ${tr.slot} as slot, ${tr.blockTime} as t,
         ${tr.valueUsd} as v, 0 as buy, 1 as sell ${timed(sqlNames(trades).$table, "t", tr.slot, tr.blockTime)}
  union all
  select 'token', ${tr.boughtMint}, ${tr.trader}, ${tr.slot}, ${tr.blockTime}, ${tr.valueUsd}, 1, 0
    ${timed(sqlNames(trades).$table, "t", tr.slot, tr.blockTime)}
  union all
  select 'pool', ${sw.pool}, ${sw.trader}, ${sw.slot}, ${sw.blockTime}, ${sw.valueUsd},
         (${sw.mintOut} = ${pl.mintA})::int, (${sw.mintIn} = ${pl.mintA})::int
    from ${sqlNames(swaps).$table} s join ${sqlNames(pools).$table} p on ${pl.address} = ${sw.pool}
    where ${sw.slot} > $1 and ${sw.slot} <= $2 and ${sw.blockTime} is not null
  union all
  select 'dex', ${sw.dex}, ${sw.trader}, ${sw.slot}, ${sw.blockTime}, ${sw.valueUsd}, 0, 0
    ${timed(sqlNames(swaps).$table, "s", sw.slot, sw.blockTime)}`;

/**
 * Adds the slots in ($1, $2] to the rollups; with keys ($3..$6: kind, entity, interval, bucket), only to those rows.
 * New traders are inserted first and counted into the stats row in the same statement.
 */
const rollUp = (keyed: boolean) => `
  with src as (${SOURCE}),
  b as (
    select src.*, i.iv, date_bin(i.width, src.t, timestamptz 'epoch') as bucket
    from src cross join (values ('hour', interval '1 hour'), ('day', interval '1 day')) i(iv, width)),
  k as (select * from b ${
    keyed
      ? `where (kind, entity, iv, bucket) in (select * from unnest($3::text[], $4::text[], $5::text[], $6::timestamptz[]))`
      : ""
  }),
  new_traders as (
    insert into ${mt.$table} (${[mt.kind, mt.entity, mt.interval, mt.bucket, mt.trader, mt.firstSlot].join(", ")})
    select kind, entity, iv, bucket, trader, min(slot) from k group by kind, entity, iv, bucket, trader
    on conflict do nothing
    returning ${mt.kind} as kind, ${mt.entity} as entity, ${mt.interval} as iv, ${mt.bucket} as bucket),
  counted as (select kind, entity, iv, bucket, count(*)::int as n from new_traders group by kind, entity, iv, bucket)
  insert into ${ms.$table} (${[ms.kind, ms.entity, ms.interval, ms.bucket, ms.volumeUsd, ms.trades, ms.buys, ms.sells, ms.traders, ms.firstSlot, ms.lastSlot].join(", ")})
  select g.kind, g.entity, g.iv, g.bucket, g.v, g.n, g.buys, g.sells, coalesce(c.n, 0), g.lo, g.hi
  from (select kind, entity, iv, bucket, coalesce(sum(v), 0) as v, count(*)::int as n, sum(buy)::int as buys,
          sum(sell)::int as sells, min(slot) as lo, max(slot) as hi
        from k group by kind, entity, iv, bucket) g
    left join counted c using (kind, entity, iv, bucket)
  on conflict (${ms.kind}, ${ms.entity}, ${ms.interval}, ${ms.bucket}) do update set
    ${ms.volumeUsd} = ${ms.$table}.${ms.volumeUsd} + excluded.${ms.volumeUsd},
    ${ms.trades} = ${ms.$table}.${ms.trades} + excluded.${ms.trades},
    ${ms.buys} = ${ms.$table}.${ms.buys} + excluded.${ms.buys},
    ${ms.sells} = ${ms.$table}.${ms.sells} + excluded.${ms.sells},
    ${ms.traders} = ${ms.$table}.${ms.traders} + excluded.${ms.traders},
    ${ms.firstSlot} = least(${ms.$table}.${ms.firstSlot}, excluded.${ms.firstSlot}),
    ${ms.lastSlot} = greatest(${ms.$table}.${ms.lastSlot}, excluded.${ms.lastSlot})`;
const ADD_RANGE = rollUp(false);
const ADD_KEYS = rollUp(true);

/** Drops the rows holding a slot at or above $1, with their traders; returns their keys and lowest slot. */
const DROP_FROM = `
  with gone as (delete from ${ms.$table} where ${ms.lastSlot} >= $1
      returning ${ms.kind} as kind, ${ms.entity} as entity, ${ms.interval} as iv, ${ms.bucket} as bucket, ${ms.firstSlot} as lo),
    dropped as (delete from ${mt.$table} m using gone g
      where ${mtRow.kind} = g.kind and ${mtRow.entity} = g.entity and ${mtRow.interval} = g.iv and ${mtRow.bucket} = g.bucket)
  select kind, entity, iv, bucket::text as bucket, lo::text as lo from gone`;

/** Adds the priced slots in (`after`, `upTo`] to the rollups (the pricing stage, once it has valued them). */
export async function addToRollups(client: pg.PoolClient, after: number, upTo: number): Promise<void> {
  await client.query(ADD_RANGE, [after, upTo]);
}

/**
 * Takes the rollups back to the slots below `slot`: every row holding a slot at or above it is recomputed from the
 * slots below it (or is gone when none remain). The caller holds the pricing lock; rows below `slot` are unchanged
 * by its transaction.
 */
export async function rewindRollups(client: pg.PoolClient, slot: number): Promise<void> {
  await client.query("select pg_advisory_xact_lock($1)", [ROLLUP_LOCK_KEY]);
  const gone = await client.query<{ kind: string; entity: string; iv: string; bucket: string; lo: string }>(DROP_FROM, [
    slot,
  ]);
  if (gone.rows.length === 0) return;
  const lo = Math.min(...gone.rows.map((g) => Number(g.lo)));
  const g = gone.rows;
  await client.query(ADD_KEYS, [
    lo - 1,
    slot - 1,
    g.map((r) => r.kind),
    g.map((r) => r.entity),
    g.map((r) => r.iv),
    g.map((r) => r.bucket),
  ]);
}
