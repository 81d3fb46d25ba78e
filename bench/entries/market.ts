/**
 * The market pages under load: the dashboard's trending tokens (top 50 by 24 h volume with price, change, liquidity
 * and market cap), a token page (its figures, 24 h market window and 24 hourly USD candles) and a wallet's PnL page,
 * at 64 concurrent keep-alive clients with the response cache off. Each against graphql-yoga alone's p99 in the same
 * run (what the machine allows at all), and side by side with PostGraphile serving SQL functions that compute the
 * same figures from the raw rows (trades with their USD values, token_prices, pool_tvl) at each request: what a team
 * without rollups would run.
 * The dataset is the API bench's (bench/dataset.ts), priced once by the indexer's own pricing stage: today's size by
 * default, the 50x dataset with BENCH_MARKET_COPIES=8200 (its pricing takes a while the first time; it is kept).
 */
import type { ChildProcess } from "node:child_process";
import pg from "pg";
import { createDb } from "../../core/db.js";
import { parseConfig } from "../../core/config.js";
import { createPricer } from "../../indexer/pricing/index.js";
import { BASE_COPIES, dataset, describe } from "../dataset.js";
import type { BenchEntry, BenchSuite } from "../harness.js";
import { CLIENTS, type Load, MEASURE_MS, POSTGRAPHILE_SQL, type Question, load, startServer } from "./api.js";

const COPIES = Number(process.env.BENCH_MARKET_COPIES ?? BASE_COPIES);
const FLOOR_QUERY = "{ page }";

/**
 * What PostGraphile serves: the same questions as SQL functions over the raw rows, computed per request.
 * @dev the priced clock is slotline's (the newest indexed block time at or below the pricing cursor), so both answer
 * for the same 24 hours. Prices per whole token are unit_price_usd * 10^decimals.
 */
export const POSTGRAPHILE_MARKET_SQL = `
  create or replace function market_clock() returns timestamptz language sql stable as $$
    select block_time from slots where slot <= (select slot from cursors where id = 'pricing')
      and status = 'indexed' and block_time is not null order by slot desc limit 1 $$;
  drop type if exists market_token cascade;
  create type market_token as (mint text, symbol text, decimals int, price_usd numeric, market_cap_usd numeric,
    liquidity_usd numeric, volume_usd numeric, trades bigint, price_change_pct numeric);
  -- a token's figures at the clock: latest price, the price 24 h before, the TVL of its pools, its trades in 24 h
  create or replace function market_token_of(m text, at timestamptz) returns market_token language sql stable as $$
    with px as (select unit_price_usd u from token_prices where mint = m and block_time <= at order by slot desc limit 1),
      px0 as (select unit_price_usd u from token_prices where mint = m and block_time <= at - interval '24 hours'
        order by slot desc limit 1),
      tvl as (select sum(x.tvl_usd) v from (select distinct on (t.pool) t.tvl_usd from pool_tvl t
        join pools p on p.address = t.pool where (p.mint_a = m or p.mint_b = m) and t.block_time <= at
        order by t.pool, t.slot desc) x),
      vol as (select coalesce(sum(value_usd), 0) v, count(*) n from trades
        where (sold_mint = m or bought_mint = m) and block_time > at - interval '24 hours' and block_time <= at)
    select m, k.symbol, k.decimals, (select u from px) * 10 ^ k.decimals, (select u from px) * k.supply,
      (select v from tvl), (select v from vol), (select n from vol),
      ((select u from px) / nullif((select u from px0), 0) - 1) * 100
    from tokens k where k.mint = m $$;
  -- trending: the 50 tokens with the most USD volume in the 24 h before the clock
  create or replace function trending_tokens() returns setof market_token language sql stable as $$
    with c as (select market_clock() t),
      sides as (select sold_mint m, value_usd v from trades, c where block_time > c.t - interval '24 hours' and block_time <= c.t
        union all select bought_mint, value_usd from trades, c where block_time > c.t - interval '24 hours' and block_time <= c.t),
      top as (select m, coalesce(sum(v), 0) v from sides group by m order by 2 desc, m limit 50)
    select r.* from top, c, lateral market_token_of(top.m, c.t) r order by top.v desc, top.m $$;
  create or replace function token_market(m text) returns market_token language sql stable as $$
    select market_token_of(m, market_clock()) $$;
  drop type if exists usd_candle cascade;
  create type usd_candle as (bucket timestamptz, open numeric, high numeric, low numeric, close numeric,
    volume_usd numeric, trades bigint);
  -- hourly USD candles of the 24 h before the clock: OHLC from the price rows, volume from the trades
  create or replace function token_usd_candles(m text) returns setof usd_candle language sql stable as $$
    with c as (select market_clock() t), k as (select decimals d from tokens where mint = m),
      px as (select date_trunc('hour', p.block_time) b, p.unit_price_usd * 10 ^ k.d u, p.slot from token_prices p, c, k
        where p.mint = m and p.block_time > c.t - interval '24 hours' and p.block_time <= c.t),
      o as (select b, (array_agg(u order by slot))[1] open, max(u) high, min(u) low,
        (array_agg(u order by slot desc))[1] close from px group by b),
      v as (select date_trunc('hour', block_time) b, coalesce(sum(value_usd), 0) vol, count(*) n from trades, c
        where (sold_mint = m or bought_mint = m) and block_time > c.t - interval '24 hours' and block_time <= c.t group by 1)
    select coalesce(o.b, v.b), o.open, o.high, o.low, o.close, coalesce(v.vol, 0), coalesce(v.n, 0)
    from o full join v on o.b = v.b order by 1 $$;
  drop type if exists wallet_token_pnl cascade;
  create type wallet_token_pnl as (mint text, trades bigint, bought_amount numeric, sold_amount numeric,
    bought_usd numeric, sold_usd numeric, realized_pnl_usd numeric, unrealized_pnl_usd numeric, balance numeric);
  -- a wallet's PnL per mint over all its trades, by average cost, with what it holds at the latest price
  create or replace function wallet_pnl_of(w text) returns setof wallet_token_pnl language sql stable as $$
    with sides as (
        select bought_mint m, bought_amount b, 0::numeric s, coalesce(value_usd, 0) bu, 0::numeric su from trades where trader = w
        union all select sold_mint, 0, sold_amount, 0, coalesce(value_usd, 0) from trades where trader = w),
      t as (select m, count(*) n, sum(b) b, sum(s) s, sum(bu) bu, sum(su) su from sides group by m),
      h as (select mint, sum(amount) a from token_holders where owner = w group by mint)
    select t.m, t.n, t.b, t.s, t.bu, t.su,
      t.su - least(t.s, t.b) * t.bu / nullif(t.b, 0),
      least(coalesce(h.a, 0), t.b) * ((select unit_price_usd from token_prices where mint = t.m order by slot desc limit 1)
        - t.bu / nullif(t.b, 0)),
      coalesce(h.a, 0)
    from t left join h on h.mint = t.m order by t.m $$;`;

/** The three questions, for both servers. */
export function marketQuestions(v: { mint: string; wallet: string }): Question[] {
  return [
    {
      name: "api-market-trending",
      description:
        "trending tokens: the top 50 by 24 h USD volume, each with price, 24 h change, liquidity and market cap",
      slotline: `{ tokens(ranking: VOLUME_24H_DESC, first: 50) { edges { node { mint symbol
        market { priceUsd marketCapUsd liquidityUsd h24 { volumeUsd trades priceChangePct } } } } } }`,
      postgraphile: `{ trendingTokens { nodes { mint symbol priceUsd marketCapUsd liquidityUsd volumeUsd trades priceChangePct } } }`,
    },
    {
      name: "api-market-token-page",
      description: "a token's price, market cap, liquidity and 24 h figures, and its 24 hourly USD candles",
      slotline: `{ token(mint: "${v.mint}") { mint symbol decimals priceUsd marketCapUsd
        market { liquidityUsd h24 { volumeUsd trades priceChangePct } }
        usdCandles(interval: H1) { start open high low close volumeUsd trades } } }`,
      postgraphile: `{ tokenMarket(m: "${v.mint}") { mint symbol decimals priceUsd marketCapUsd liquidityUsd volumeUsd trades priceChangePct }
        tokenUsdCandles(m: "${v.mint}") { nodes { bucket open high low close volumeUsd trades } } }`,
    },
    {
      name: "api-market-pnl-page",
      description: "a wallet's PnL over all its trades, per token (bought, sold, realized and unrealized USD)",
      slotline: `{ account(address: "${v.wallet}") { pnl(window: ALL) { trades realizedPnlUsd unrealizedPnlUsd
        tokens { mint trades boughtAmount soldAmount boughtUsd soldUsd realizedPnlUsd unrealizedPnlUsd balance } } } }`,
      postgraphile: `{ walletPnlOf(w: "${v.wallet}") { nodes { mint trades boughtAmount soldAmount boughtUsd soldUsd realizedPnlUsd unrealizedPnlUsd balance } } }`,
    },
  ];
}

type Servers = {
  name: string;
  describe(): Promise<Record<string, string | number>>;
  slotline: string;
  postgraphile: string;
  floor: string;
  questions: Question[];
  stop(): void;
};

/** Prices the dataset up to its last stored slot with the indexer's pricing stage (a no-op once done). */
async function priceDataset(url: string, log: (line: string) => void): Promise<void> {
  const db = createDb(url, { max: 2 });
  try {
    const top = await db.$client.query<{ s: string | null }>("select max(slot)::text as s from slots");
    const upTo = Number(top.rows[0]!.s);
    const t0 = performance.now();
    await createPricer({ db, config: parseConfig({ DATABASE_URL: url }) }).catchUp({ upTo });
    log(`priced up to slot ${upTo} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    await db.$client.end();
  }
}

async function prepare(): Promise<Servers> {
  const log = (line: string) => process.stderr.write(`  ${line}\n`);
  const d = await dataset(COPIES, log, { asIs: process.env.BENCH_DATASET_AS_IS === "1" });
  await priceDataset(d.url, log);
  const c = new pg.Client({ connectionString: d.url });
  await c.connect();
  await c.query(POSTGRAPHILE_SQL + POSTGRAPHILE_MARKET_SQL);
  // the subjects: the priced mint with the most trades, and the trader with the most trades
  const pick = async (q: string) => Object.values((await c.query(q)).rows[0] as object)[0] as string;
  const mint = await pick(`select m from (select sold_mint m from trades union all select bought_mint from trades) x
    where m in (select mint from token_prices) and m <> 'So11111111111111111111111111111111111111112'
    group by m order by count(*) desc, m limit 1`);
  const wallet = await pick("select trader from trades group by trader order by count(*) desc, trader limit 1");
  await c.query("analyze");
  await c.end();
  const started = await Promise.all([
    startServer("slotline", d.url),
    startServer("postgraphile", d.url),
    startServer("yoga-floor", ""),
  ]);
  const children: ChildProcess[] = started.map((x) => x.child);
  const stop = () => {
    for (const x of children) x.kill("SIGTERM");
  };
  // run.ts exits without tearing down when --only picks one entry: never leave servers behind.
  process.once("exit", stop);
  const [slotline, postgraphile, floor] = started.map((x) => x.url) as [string, string, string];
  return {
    name: d.name,
    describe: () => describe(d),
    slotline,
    postgraphile,
    floor,
    questions: marketQuestions({ mint, wallet }),
    stop,
  };
}

/** The server must answer the query with data and without errors before it is measured. */
async function mustAnswer(url: string, query: string, what: string): Promise<void> {
  const r = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query }),
  });
  const text = await r.text();
  if (!r.ok || text.includes('"errors"') || !text.includes('"data"'))
    throw new Error(`${url} cannot answer ${what}: ${text.slice(0, 500)}`);
}

let shared: Promise<Servers> | undefined;
const join = () => (shared ??= prepare());
const f1 = (x: number | undefined) => Math.round((x ?? 0) * 10) / 10;

const suite: BenchSuite = {
  name: "market",
  async teardown() {
    if (shared) (await shared).stop();
    shared = undefined;
  },
  entries() {
    /**
     * A market page: its p99 against graphql-yoga alone's in the same run, with PostGraphile's throughput for the
     * same figures computed from the raw rows measured beside it in each run (target: at least 3x).
     */
    const entry = (i: number): BenchEntry => {
      const last: { slotline?: Load; postgraphile?: Load; floor?: Load } = {};
      const ratios: number[] = [];
      const q = (s: Servers) => s.questions[i]!;
      const names = marketQuestions({ mint: "", wallet: "" });
      return {
        name: names[i]!.name,
        description: `${names[i]!.description}, on the bench dataset (${COPIES} copies of the two mainnet blocks): p99 at ${CLIENTS} concurrent clients (response cache off), ${MEASURE_MS / 1000} s per run, against graphql-yoga alone's p99 in the same run (target: at most 1.5x); PostGraphile computing the same figures from the raw rows in SQL functions, measured beside it in each run (throughput target: at least 3x)`,
        unit: "ms",
        higherIsBetter: false,
        async setup() {
          const s = await join();
          await mustAnswer(s.slotline, q(s).slotline, q(s).name);
          await mustAnswer(s.postgraphile, q(s).postgraphile, `${q(s).name} (PostGraphile)`);
        },
        async measure() {
          const s = await shared!;
          last.slotline = await load(s.slotline, q(s).slotline);
          last.postgraphile = await load(s.postgraphile, q(s).postgraphile);
          ratios.push(last.slotline.rps / Math.max(last.postgraphile.rps, 1e-9));
          return last.slotline.p99;
        },
        reference: {
          name: "api-yoga-floor p99 (graphql-yoga alone, same run)",
          async measure() {
            last.floor = await load((await shared!).floor, FLOOR_QUERY);
            return last.floor.p99;
          },
        },
        async details() {
          const s = await shared!;
          const sorted = [...ratios].sort((a, b) => a - b);
          return {
            question: q(s).slotline.replace(/\s+/g, " "),
            dataset: s.name,
            "slotline req/s (last run)": Math.round(last.slotline?.rps ?? 0),
            "slotline p50 / p99 ms (last run)": `${f1(last.slotline?.p50)} / ${f1(last.slotline?.p99)}`,
            "postgraphile req/s (last run)": Math.round(last.postgraphile?.rps ?? 0),
            "postgraphile p50 / p99 ms (last run)": `${f1(last.postgraphile?.p50)} / ${f1(last.postgraphile?.p99)}`,
            "throughput vs postgraphile, median of runs": `${sorted[Math.floor(sorted.length / 2)]?.toFixed(2)}x`,
            "yoga floor req/s, p50 / p99 ms (last run)": `${Math.round(last.floor?.rps ?? 0)}, ${f1(last.floor?.p50)} / ${f1(last.floor?.p99)}`,
            errors: (last.slotline?.errors ?? 0) + (last.postgraphile?.errors ?? 0) + (last.floor?.errors ?? 0),
          };
        },
      };
    };
    const first = entry(0);
    // the dataset's figures ride with the first entry
    const firstDetails = first.details!;
    first.details = async () => ({ ...(await firstDetails()), ...(await (await shared!).describe()) });
    return [first, entry(1), entry(2)];
  },
};

export default suite;
