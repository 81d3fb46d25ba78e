/**
 * The market rankings (`market_rankings`): each generation ranks every token and pool under each ordering at the
 * pricing cursor, from the rollups, prices and TVL the stage has written up to it, in one statement.
 * Only tokens and pools first seen at or below the generation are ranked, so what a generation holds is a function of
 * the chain data up to it, but for holders and market cap (token holder counts and supplies are kept as stored).
 * A generation reads every token and pool, so a busy stage writes one per RANKINGS_MIN_INTERVAL_S of chain time at
 * most (`writeRankingsIfDue`), and an idle one the one at its cursor (`ensureRankings`).
 * @dev the 24 h window is the 24 whole hours ending with the one holding the priced clock (the block time of the
 * newest indexed slot at or below the generation; in logs mode, which stores no `slots` rows, of the newest stored
 * transaction), as Token.market's h24 reads it. A creation time falls back to a transaction's block time likewise.
 */
import type pg from "pg";
import {
  marketRankings,
  marketStats,
  poolTvl,
  pools,
  slots,
  tokenPrices,
  tokens,
  transactions,
} from "../../schema/index.js";
import { overwrite, sqlNames } from "./columns.js";

/** Generations kept: a cursor on one of them stays valid while this many newer ones are written. */
export const RANKING_GENERATIONS = 4;

const sl = sqlNames(slots);
const tx = sqlNames(transactions);
const pt = sqlNames(poolTvl);
const ms = sqlNames(marketStats);
const pl = sqlNames(pools);
const plRow = sqlNames(pools, "p");
const tp = sqlNames(tokenPrices);
const tk = sqlNames(tokens);
const tkRow = sqlNames(tokens, "k");
const mr = sqlNames(marketRankings);

/** The block time of a transaction at `slot` (the creation time of what was first seen there, in logs mode). */
const txTime = (slot: string) => `(select ${tx.blockTime} from ${tx.$table} where ${tx.slot} = ${slot} limit 1)`;

/** The priced clock at slot `at`: the block time of the newest indexed slot at or below it, else of a transaction. */
const clockAt = (at: string) => `coalesce(
    (select ${sl.blockTime} from ${sl.$table} where ${sl.slot} <= ${at} and ${sl.status} = 'indexed'
       and ${sl.blockTime} is not null order by ${sl.slot} desc limit 1),
    (select ${tx.blockTime} from ${tx.$table} where ${tx.slot} <= ${at} and ${tx.blockTime} is not null
       order by ${tx.slot} desc limit 1))`;

const WRITE = `
  with clock as (select date_bin('1 hour', ${clockAt("$1")}, timestamptz 'epoch') - interval '23 hours' as f),
  tvl as (select distinct on (${pt.pool}) ${pt.pool} as pool, ${pt.tvlUsd} as usd from ${pt.$table}
    order by ${pt.pool}, ${pt.slot} desc),
  vol as (select ${ms.kind} as kind, ${ms.entity} as entity, sum(${ms.volumeUsd}) as v, sum(${ms.trades}) as n
    from ${ms.$table} where ${ms.interval} = 'hour' and ${ms.bucket} >= (select f from clock)
    group by ${ms.kind}, ${ms.entity}),
  sides as (select ${pl.address} as address, ${pl.dex} as dex, ${pl.mintA} as mint from ${pl.$table}
    union all select ${pl.address}, ${pl.dex}, ${pl.mintB} from ${pl.$table}),
  liq as (select s.mint, sum(t.usd) as usd, array_agg(distinct s.dex order by s.dex) as dexes
    from sides s left join tvl t on t.pool = s.address group by s.mint),
  price as (select distinct on (${tp.mint}) ${tp.mint} as mint, ${tp.unitPriceUsd} as unit from ${tp.$table}
    order by ${tp.mint}, ${tp.slot} desc),
  tok as (
    select ${tkRow.mint} as entity, l.usd as liq, coalesce(l.dexes, '{}') as dexes,
      coalesce(c.${sl.blockTime}, ${txTime(tkRow.firstSeenSlot)}) as created,
      v.v as volume, v.n as trades, ${tkRow.holderCount} as holders, ${tkRow.firstSeenSlot} as newest,
      round((pr.unit / nullif(o.unit, 0) - 1) * 100, 6) as change,
      case when ${tkRow.supply} is null or ${tkRow.decimals} is null then null
           when ${tkRow.mint} = any($2::text[]) then round(${tkRow.supply} / 10::numeric ^ ${tkRow.decimals}, 12)
           else round(pr.unit * ${tkRow.supply}, 12) end as cap
    from ${tk.$table} k
      left join liq l on l.mint = ${tkRow.mint}
      left join ${sl.$table} c on c.${sl.slot} = ${tkRow.firstSeenSlot}
      left join vol v on v.kind = 'token' and v.entity = ${tkRow.mint}
      left join price pr on pr.mint = ${tkRow.mint}
      left join lateral (select ${tp.unitPriceUsd} as unit from ${tp.$table}
        where ${tp.mint} = ${tkRow.mint} and ${tp.blockTime} < (select f from clock)
        order by ${tp.blockTime} desc, ${tp.slot} desc limit 1) o on true
    where ${tkRow.firstSeenSlot} <= $1),
  pool as (
    select ${plRow.address} as entity, t.usd as liq, array[${plRow.dex}] as dexes,
      coalesce(c.${sl.blockTime}, ${txTime(plRow.firstSeenSlot)}) as created,
      v.v as volume, v.n as trades, ${plRow.firstSeenSlot} as newest
    from ${pl.$table} p
      left join tvl t on t.pool = ${plRow.address}
      left join ${sl.$table} c on c.${sl.slot} = ${plRow.firstSeenSlot}
      left join vol v on v.kind = 'pool' and v.entity = ${plRow.address}
    where ${plRow.firstSeenSlot} <= $1),
  figures as (
    select 'token' as kind, entity, liq, dexes, created, o.ordering, o.value from tok cross join lateral (values
      ('VOLUME_24H_DESC', volume), ('PRICE_CHANGE_24H_DESC', change), ('MARKET_CAP_DESC', cap),
      ('LIQUIDITY_DESC', liq), ('TRADES_24H_DESC', trades::numeric), ('HOLDERS_DESC', holders::numeric),
      ('NEWEST', newest::numeric)) o(ordering, value)
    union all
    select 'pool', entity, liq, dexes, created, o.ordering, o.value from pool cross join lateral (values
      ('VOLUME_24H_DESC', volume), ('TVL_DESC', liq), ('TRADES_24H_DESC', trades::numeric),
      ('NEWEST', newest::numeric)) o(ordering, value))
  insert into ${mr.$table} (${[mr.kind, mr.ordering, mr.generation, mr.rank, mr.entity, mr.value, mr.liquidityUsd, mr.dexes, mr.createdAt].join(", ")})
  select kind, ordering, $1, row_number() over (partition by kind, ordering order by value desc nulls last, entity),
    entity, trim_scale(value), trim_scale(liq), dexes, created
  from figures
  on conflict (${mr.kind}, ${mr.ordering}, ${mr.generation}, ${mr.rank}) do update set
    ${overwrite([mr.entity, mr.value, mr.liquidityUsd, mr.dexes, mr.createdAt])}`;

const PRUNE = `delete from ${mr.$table} where ${mr.generation} < (select min(g) from
    (select distinct ${mr.generation} as g from ${mr.$table} order by g desc limit ${RANKING_GENERATIONS}) x)`;
const DROP_FROM = `delete from ${mr.$table} where ${mr.generation} >= $1`;

/**
 * Writes the rankings at the pricing cursor `generation` (the caller has priced every slot up to it in this
 * transaction) and drops the generations older than the newest RANKING_GENERATIONS.
 */
export async function writeRankings(client: pg.PoolClient, generation: number, stables: string[]): Promise<void> {
  await client.query(WRITE, [generation, stables]);
  await client.query(PRUNE);
}

const LATEST = `select max(${mr.generation})::text as g from ${mr.$table}`;
/**
 * The newest generation, and the seconds the priced clock has moved from it to slot $1 (null when there is no
 * generation or either clock is unknown). Two index reads: neither scans tokens nor pools.
 */
const MOVED = `with newest as (select max(${mr.generation}) as g from ${mr.$table})
  select g::text as g, extract(epoch from ${clockAt("$1")} - ${clockAt("(select g from newest)")})::text as moved
  from newest`;

/** Writes the rankings at `generation` unless the newest generation is that one already (an idle pricing run). */
export async function ensureRankings(client: pg.PoolClient, generation: number, stables: string[]): Promise<void> {
  const r = await client.query<{ g: string | null }>(LATEST);
  if (r.rows[0]?.g == null || Number(r.rows[0].g) !== generation) await writeRankings(client, generation, stables);
}

/**
 * Writes the rankings at `generation` (the end of a catch-up that priced slots) if they are due: no generation yet,
 * a clock unknown, or the priced clock moved at least `minIntervalS` seconds since the newest generation (0: always).
 * Returns whether it wrote one.
 * @dev this bounds the full reads of tokens and pools to one per `minIntervalS` of chain time while the stage is
 * busy; an idle run (`ensureRankings`) still writes the one at the cursor, so once the stage has caught up the
 * newest generation is at its cursor whichever runs came before, and what a generation holds never depends on them.
 */
export async function writeRankingsIfDue(
  client: pg.PoolClient,
  generation: number,
  stables: string[],
  minIntervalS: number,
): Promise<boolean> {
  if (minIntervalS > 0) {
    const r = await client.query<{ g: string | null; moved: string | null }>(MOVED, [generation]);
    const { g = null, moved = null } = r.rows[0] ?? {};
    if (g != null && Number(g) >= generation) return false;
    if (g != null && moved != null && Number(moved) < minIntervalS) return false;
  }
  await writeRankings(client, generation, stables);
  return true;
}

/** Drops the generations computed at or above `slot` (a rewind of the pricing stage to it). */
export async function dropRankingsFrom(client: pg.PoolClient, slot: number): Promise<void> {
  await client.query(DROP_FROM, [slot]);
}
