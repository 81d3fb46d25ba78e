/**
 * Market data through the API over copies of the two whole mainnet blocks spread over 26 hours (so the 1 h, 24 h and
 * 7 d windows differ and prices exist before them): Token.market, Token.stats, Token.usdCandles, Pool.market,
 * Pool.stats and dexStats, every figure recomputed here from the raw trades, swaps and prices in SQL.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseConfig } from "../../../core/config.js";
import type { DecodedBlock } from "../../../indexer/decode/index.js";
import { createPricer } from "../../../indexer/pricing/index.js";
import { createStore } from "../../../indexer/store/index.js";
import { type ApiHarness, setupApi } from "./harness.js";
import { copyBlock } from "../../setup/copy-block.js";

/** The priced clock: the newest indexed block time at or below the pricing cursor. */
const NOW = `(select block_time from slots where slot <= (select slot from cursors where id = 'pricing')
  and status = 'indexed' and block_time is not null order by slot desc limit 1)`;

/** A token's figures over the hours from `date_trunc('hour', now) - ($2 - 1) h`, from the raw trades and prices. */
const TOKEN_WINDOW = `
  with f as (select date_trunc('hour', ${NOW}, 'UTC') - make_interval(hours => $2::int - 1) as f),
  t as (select t.* from trades t join slots l on l.slot = t.slot
    where $1 in (t.sold_mint, t.bought_mint) and l.block_time >= (select f from f)
      and t.slot <= (select slot from cursors where id = 'pricing'))
  select (select f from f) as from, trim_scale(coalesce(sum(value_usd), 0))::text as "volumeUsd", count(*)::int as trades,
    count(*) filter (where bought_mint = $1)::int as buys, count(*) filter (where sold_mint = $1)::int as sells,
    count(distinct trader)::int as "uniqueTraders",
    (select trim_scale(round((c.unit_price_usd / o.unit_price_usd - 1) * 100, 6))::text
       from (select unit_price_usd from token_prices where mint = $1 order by slot desc limit 1) c,
            (select unit_price_usd from token_prices where mint = $1 and block_time < (select f from f)
             order by block_time desc, slot desc limit 1) o) as "priceChangePct"
  from t`;

describe("api: market data", () => {
  let h: ApiHarness;
  let mints: string[];

  beforeAll(async () => {
    h = await setupApi({ fill: false });
    const copies = [0, 1, 2, 3, 4, 5].flatMap((j) => h.blocks.map((b) => copyBlock(b, j)));
    await createStore({ db: h.writer }).writeBlocks(copies, { commitment: "confirmed" });
    await createPricer({ db: h.writer, config: parseConfig({}) }).catchUp({
      upTo: Math.max(...copies.map((c) => c.slot)),
    });
    const top = await h.sql.query<{ mint: string }>(
      `select mint from (select sold_mint as mint from trades union all select bought_mint from trades) x
       group by mint order by count(*) desc, mint limit 6`,
    );
    mints = top.rows.map((r) => r.mint);
  }, 60_000);
  afterAll(() => h.close());

  /** Three UTC days holding every block: a range each call may span. */
  async function span() {
    const r = await h.sql.query<{ from: Date }>("select date_trunc('day', min(block_time), 'UTC') as from from slots");
    const from = r.rows[0]!.from;
    return { from: from.toISOString(), to: new Date(from.getTime() + 3 * 86_400_000).toISOString() };
  }

  test("Token.market: each window, liquidity and holders equal their recomputation from the raw rows", async () => {
    const r = await h.gql(
      `query($mints: [String!]!) { tokens(first: 10, where: { mints: $mints }) { edges { node { mint holderCount
         market { asOf liquidityUsd holders priceUsd
           h1 { from volumeUsd trades buys sells uniqueTraders priceChangePct }
           h24 { from volumeUsd trades buys sells uniqueTraders priceChangePct }
           d7 { from volumeUsd trades buys sells uniqueTraders priceChangePct } } } } } }`,
      { mints },
    );
    expect(r.body.errors).toBeUndefined();
    const nodes = r.body.data.tokens.edges.map((e: { node: unknown }) => e.node);
    expect(nodes.length).toBe(mints.length);
    const now = (await h.sql.query<{ t: Date }>(`select ${NOW} as t`)).rows[0]!.t;
    let changes = 0;
    let differ = 0;
    for (const n of nodes) {
      expect(n.market.asOf).toBe(now.toISOString());
      expect(n.market.holders).toBe(n.holderCount);
      for (const [w, hours] of [
        ["h1", 1],
        ["h24", 24],
        ["d7", 168],
      ] as const) {
        const o = (await h.sql.query(TOKEN_WINDOW, [n.mint, hours])).rows[0]!;
        expect({ ...n.market[w], from: new Date(n.market[w].from) }).toEqual({ ...o, from: o.from });
        if (o.priceChangePct != null) changes++;
      }
      if (n.market.h1.trades !== n.market.h24.trades) differ++;
      const liq = await h.sql.query<{ v: string | null }>(
        `select trim_scale(sum(v.tvl_usd))::text as v from pools p cross join lateral (
           select tvl_usd from pool_tvl where pool = p.address order by slot desc limit 1) v
         where $1 in (p.mint_a, p.mint_b)`,
        [n.mint],
      );
      expect(n.market.liquidityUsd).toBe(liq.rows[0]!.v);
    }
    // the data covers what matters: a price change measured, windows that differ
    expect(changes).toBeGreaterThan(0);
    expect(differ).toBeGreaterThan(0);
  });

  test("distinct traders are read only when asked, for every window of a list in one statement", async () => {
    const page = (fields: string) =>
      h.gql(
        `query($mints: [String!]!) { tokens(first: 10, where: { mints: $mints }) { edges { node { mint
           market { h1 { ${fields} } h24 { ${fields} } d7 { ${fields} } } } } } }`,
        { mints },
      );
    const traderReads = () => h.statements.texts.filter((t) => t.includes("from market_traders")).length;
    h.statements.reset();
    expect((await page("volumeUsd trades")).body.errors).toBeUndefined();
    expect(traderReads()).toBe(0);
    h.statements.reset();
    const r = await page("volumeUsd uniqueTraders");
    expect(r.body.errors).toBeUndefined();
    expect(traderReads()).toBe(1);
    expect(r.body.data.tokens.edges.some((e: any) => e.node.market.d7.uniqueTraders > 0)).toBe(true);
  });

  test("Token.stats, Pool.stats and dexStats equal the raw rows grouped by UTC hour or day", async () => {
    const { from, to } = await span();
    const pool = (
      await h.sql.query<{ pool: string }>("select pool from swaps group by pool order by count(*) desc, pool limit 1")
    ).rows[0]!.pool;
    const r = await h.gql(
      `query($mint: String!, $pool: String!) {
         token(mint: $mint) { stats(interval: H1, from: "2026-01-01T00:00:00Z", to: "2026-01-01T01:00:00Z") { start }
           hours: stats(interval: D1, from: "${from}", to: "${to}") { start volumeUsd trades buys sells uniqueTraders } }
         pool(address: $pool) { stats(interval: H1, from: "2020-01-01T00:00:00Z", to: "2020-01-02T00:00:00Z") { start }
           market { h24 { volumeUsd trades buys sells uniqueTraders priceChangePct } }
           byHour: stats(interval: H1) { start volumeUsd trades buys sells uniqueTraders } }
         dexStats(interval: D1, from: "${from}", to: "${to}") { entity start volumeUsd trades uniqueTraders } }`,
      { mint: mints[0], pool },
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.token.stats).toEqual([]);
    const clean = (rows: { start: string }[]) => rows.map((x) => ({ ...x, start: new Date(x.start).toISOString() }));
    const tokenDays = await h.sql.query(
      `select date_trunc('day', l.block_time, 'UTC') as start, trim_scale(coalesce(sum(value_usd), 0))::text as "volumeUsd",
         count(*)::int as trades, count(*) filter (where bought_mint = $1)::int as buys,
         count(*) filter (where sold_mint = $1)::int as sells, count(distinct trader)::int as "uniqueTraders"
       from trades t join slots l on l.slot = t.slot where $1 in (sold_mint, bought_mint) group by 1 order by 1`,
      [mints[0]],
    );
    expect(tokenDays.rows.length).toBe(2);
    expect(clean(r.body.data.token.hours)).toEqual(tokenDays.rows.map((x) => ({ ...x, start: x.start.toISOString() })));
    // the default range: the 24 hours up to the end of the priced clock's hour
    const poolHours = await h.sql.query(
      `select date_trunc('hour', l.block_time, 'UTC') as start, trim_scale(coalesce(sum(s.value_usd), 0))::text as "volumeUsd",
         count(*)::int as trades, count(*) filter (where s.mint_out = p.mint_a)::int as buys,
         count(*) filter (where s.mint_in = p.mint_a)::int as sells, count(distinct s.trader)::int as "uniqueTraders"
       from swaps s join slots l on l.slot = s.slot join pools p on p.address = s.pool
       where s.pool = $1 and l.block_time >= date_trunc('hour', ${NOW}, 'UTC') - interval '23 hours'
       group by 1 order by 1`,
      [pool],
    );
    expect(poolHours.rows.length).toBeGreaterThan(1);
    expect(poolHours.rows.length).toBeLessThan(6);
    expect(clean(r.body.data.pool.byHour)).toEqual(poolHours.rows.map((x) => ({ ...x, start: x.start.toISOString() })));
    expect(r.body.data.pool.stats).toEqual([]);
    // the pool's 24 h window is those hours summed, its traders distinct over all of them
    const day = await h.sql.query(
      `select trim_scale(coalesce(sum(s.value_usd), 0))::text as "volumeUsd", count(*)::int as trades,
         count(*) filter (where s.mint_out = p.mint_a)::int as buys, count(*) filter (where s.mint_in = p.mint_a)::int as sells,
         count(distinct s.trader)::int as "uniqueTraders", null as "priceChangePct"
       from swaps s join slots l on l.slot = s.slot join pools p on p.address = s.pool
       where s.pool = $1 and l.block_time >= date_trunc('hour', ${NOW}, 'UTC') - interval '23 hours'`,
      [pool],
    );
    expect(r.body.data.pool.market.h24).toEqual(day.rows[0]);
    expect(day.rows[0]!.uniqueTraders).toBeLessThan(poolHours.rows.reduce((n, x) => n + x.uniqueTraders, 0));
    const dex = await h.sql.query(
      `select s.dex as entity, date_trunc('day', l.block_time, 'UTC') as start,
         trim_scale(coalesce(sum(s.value_usd), 0))::text as "volumeUsd", count(*)::int as trades,
         count(distinct s.trader)::int as "uniqueTraders"
       from swaps s join slots l on l.slot = s.slot group by 1, 2 order by 2, 1`,
    );
    expect(dex.rows.length).toBeGreaterThan(3);
    expect(clean(r.body.data.dexStats)).toEqual(dex.rows.map((x) => ({ ...x, start: x.start.toISOString() })));
  });

  test("Token.usdCandles: OHLC from the token's prices per whole token, volume and trades from its trades", async () => {
    // the traded mint with the most prices whose decimals are known
    const mint = (
      await h.sql.query<{ mint: string }>(
        `select tp.mint from token_prices tp join tokens k on k.mint = tp.mint and k.decimals is not null
         where tp.mint in (select sold_mint from trades) group by tp.mint order by count(*) desc, tp.mint limit 1`,
      )
    ).rows[0]!.mint;
    const { from, to } = await span();
    const r = await h.gql(
      `{ token(mint: "${mint}") { usdCandles(interval: H1, from: "${from}", to: "${to}") {
           start open high low close volumeUsd trades } } }`,
    );
    expect(r.body.errors, h.logs.join("\n")).toBeUndefined();
    const expected = await h.sql.query(
      `with p as (select date_trunc('hour', tp.block_time, 'UTC') as start, tp.slot, tp.unit_price_usd * 10::numeric ^ k.decimals as price
         from token_prices tp join tokens k on k.mint = tp.mint where tp.mint = $1),
       c as (select start, (array_agg(price order by slot))[1] as open, max(price) as high, min(price) as low,
         (array_agg(price order by slot desc))[1] as close from p group by start),
       v as (select date_trunc('hour', l.block_time, 'UTC') as start, sum(value_usd) as volume, count(*)::int as trades
         from trades t join slots l on l.slot = t.slot where $1 in (sold_mint, bought_mint) group by 1)
       select start, trim_scale(round(open, 18))::text as open, trim_scale(round(high, 18))::text as high,
         trim_scale(round(low, 18))::text as low, trim_scale(round(close, 18))::text as close,
         trim_scale(coalesce(volume, 0))::text as "volumeUsd", coalesce(trades, 0) as trades
       from c full join v using (start) order by start`,
      [mint],
    );
    expect(expected.rows.length).toBeGreaterThan(3);
    expect(expected.rows.some((x) => x.open != null)).toBe(true);
    expect(
      r.body.data.token.usdCandles.map((x: { start: string }) => ({ ...x, start: new Date(x.start).toISOString() })),
    ).toEqual(expected.rows.map((x) => ({ ...x, start: x.start.toISOString() })));
  });

  test("a page of tokens and pools reads its market figures in a fixed number of statements, whatever its size", async () => {
    const counts: number[] = [];
    for (const n of [2, 30]) {
      h.statements.reset();
      const r = await h.gql(
        `{ tokens(first: ${n}) { edges { node { mint market { h24 { volumeUsd uniqueTraders priceChangePct } liquidityUsd }
             stats(interval: H1) { volumeUsd } pools(first: 3) { edges { node { market { h1 { trades } } } } } } } } }`,
      );
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data.tokens.edges.length).toBe(n);
      counts.push(h.statements.texts.filter((t) => /market_stats|market_traders/.test(t)).length);
    }
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[1]).toBe(counts[0]);
  });
});
