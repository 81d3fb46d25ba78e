/**
 * The market rankings (`market_rankings`): each generation ranks every token and pool under each ordering at the
 * pricing cursor, from the rollups, prices and TVL the stage has written up to it, in one statement.
 * Only tokens and pools first seen at or below the generation are ranked, so what a generation holds is a function of
 * the chain data up to it, but for holders and market cap (token holder counts and supplies are kept as stored).
 * @dev the 24 h window is the 24 whole hours ending with the one holding the priced clock (the block time of the
 * newest indexed slot at or below the generation; in logs mode, which stores no `slots` rows, of the newest stored
 * transaction), as Token.market's h24 reads it. A creation time falls back to a transaction's block time likewise.
 */
import type pg from "pg";

/** Generations kept: a cursor on one of them stays valid while this many newer ones are written. */
export const RANKING_GENERATIONS = 4;

const WRITE = `
  with clock as (select date_bin('1 hour', coalesce(
        (select block_time from slots where slot <= $1 and status = 'indexed' and block_time is not null
          order by slot desc limit 1),
        (select block_time from transactions where slot <= $1 and block_time is not null order by slot desc limit 1)),
        timestamptz 'epoch') - interval '23 hours' as f),
  tvl as (select distinct on (pool) pool, tvl_usd from pool_tvl order by pool, slot desc),
  vol as (select kind, entity, sum(volume_usd) as v, sum(trades) as n from market_stats
    where interval = 'hour' and bucket >= (select f from clock) group by kind, entity),
  sides as (select p.address, p.dex, p.mint_a as mint from pools p union all select p.address, p.dex, p.mint_b from pools p),
  liq as (select s.mint, sum(t.tvl_usd) as usd, array_agg(distinct s.dex order by s.dex) as dexes
    from sides s left join tvl t on t.pool = s.address group by s.mint),
  price as (select distinct on (mint) mint, unit_price_usd as unit from token_prices order by mint, slot desc),
  tok as (
    select k.mint as entity, l.usd as liq, coalesce(l.dexes, '{}') as dexes,
      coalesce(c.block_time, (select block_time from transactions where slot = k.first_seen_slot limit 1)) as created,
      v.v as volume, v.n as trades, k.holder_count as holders, k.first_seen_slot as newest,
      round((pr.unit / nullif(o.unit, 0) - 1) * 100, 6) as change,
      case when k.supply is null or k.decimals is null then null
           when k.mint = any($2::text[]) then round(k.supply / 10::numeric ^ k.decimals, 12)
           else round(pr.unit * k.supply, 12) end as cap
    from tokens k
      left join liq l on l.mint = k.mint
      left join slots c on c.slot = k.first_seen_slot
      left join vol v on v.kind = 'token' and v.entity = k.mint
      left join price pr on pr.mint = k.mint
      left join lateral (select unit_price_usd as unit from token_prices
        where mint = k.mint and block_time < (select f from clock) order by block_time desc, slot desc limit 1) o on true
    where k.first_seen_slot <= $1),
  pool as (
    select p.address as entity, t.tvl_usd as liq, array[p.dex] as dexes,
      coalesce(c.block_time, (select block_time from transactions where slot = p.first_seen_slot limit 1)) as created,
      v.v as volume, v.n as trades, p.first_seen_slot as newest
    from pools p
      left join tvl t on t.pool = p.address
      left join slots c on c.slot = p.first_seen_slot
      left join vol v on v.kind = 'pool' and v.entity = p.address
    where p.first_seen_slot <= $1),
  figures as (
    select 'token' as kind, entity, liq, dexes, created, o.ordering, o.value from tok cross join lateral (values
      ('VOLUME_24H_DESC', volume), ('PRICE_CHANGE_24H_DESC', change), ('MARKET_CAP_DESC', cap),
      ('LIQUIDITY_DESC', liq), ('TRADES_24H_DESC', trades::numeric), ('HOLDERS_DESC', holders::numeric),
      ('NEWEST', newest::numeric)) o(ordering, value)
    union all
    select 'pool', entity, liq, dexes, created, o.ordering, o.value from pool cross join lateral (values
      ('VOLUME_24H_DESC', volume), ('TVL_DESC', liq), ('TRADES_24H_DESC', trades::numeric),
      ('NEWEST', newest::numeric)) o(ordering, value))
  insert into market_rankings (kind, ordering, generation, rank, entity, value, liquidity_usd, dexes, created_at)
  select kind, ordering, $1, row_number() over (partition by kind, ordering order by value desc nulls last, entity),
    entity, trim_scale(value), trim_scale(liq), dexes, created
  from figures
  on conflict (kind, ordering, generation, rank) do update set entity = excluded.entity, value = excluded.value,
    liquidity_usd = excluded.liquidity_usd, dexes = excluded.dexes, created_at = excluded.created_at`;

const PRUNE = `delete from market_rankings where generation < (select min(g) from
    (select distinct generation as g from market_rankings order by g desc limit ${RANKING_GENERATIONS}) x)`;
const DROP_FROM = `delete from market_rankings where generation >= $1`;

/**
 * Writes the rankings at the pricing cursor `generation` (the caller has priced every slot up to it in this
 * transaction) and drops the generations older than the newest RANKING_GENERATIONS.
 */
export async function writeRankings(client: pg.PoolClient, generation: number, stables: string[]): Promise<void> {
  await client.query(WRITE, [generation, stables]);
  await client.query(PRUNE);
}

const LATEST = `select max(generation)::text as g from market_rankings`;

/** Writes the rankings at `generation` unless the newest generation is that one already (an idle pricing run). */
export async function ensureRankings(client: pg.PoolClient, generation: number, stables: string[]): Promise<void> {
  const r = await client.query<{ g: string | null }>(LATEST);
  if (r.rows[0]?.g == null || Number(r.rows[0].g) !== generation) await writeRankings(client, generation, stables);
}

/** Drops the generations computed at or above `slot` (a rewind of the pricing stage to it). */
export async function dropRankingsFrom(client: pg.PoolClient, slot: number): Promise<void> {
  await client.query(DROP_FROM, [slot]);
}
