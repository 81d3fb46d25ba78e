/**
 * Market rankings through the API (`tokens(ranking:)`, `pools(ranking:)`) over copies of the two whole mainnet
 * blocks spread over 26 hours: each ordering and filter against its recomputation here from the raw trades, swaps,
 * prices, TVL and tokens in SQL, and a ranking paged through while newer generations are written.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseConfig } from "../../../core/config.js";
import type { DecodedBlock } from "../../../indexer/decode/index.js";
import { createPricer } from "../../../indexer/pricing/index.js";
import { RANKING_GENERATIONS, createStore } from "../../../indexer/store/index.js";
import { type ApiHarness, type GqlResponse, setupApi } from "./harness.js";
import { SHIFT_S, copyBlock } from "../../setup/copy-block.js";

const CURSOR = `(select slot from cursors where id = 'pricing')`;
/** The first hour of the 24 h window: 23 whole hours before the one holding the priced clock. */
const FROM = `(select date_trunc('hour', block_time, 'UTC') - interval '23 hours' from slots where slot <= ${CURSOR}
  and status = 'indexed' and block_time is not null order by slot desc limit 1)`;
const LATEST_TVL = `(select distinct on (pool) pool, tvl_usd from pool_tvl order by pool, slot desc)`;

/** Each token's ranked figures from the raw rows, as (entity, value) ordered as the ranking must be. */
const TOKEN_FIGURES: Record<string, string> = {
  VOLUME_24H_DESC: `select k.mint as entity, (select coalesce(sum(t.value_usd), 0) from trades t join slots l on l.slot = t.slot
      where k.mint in (t.sold_mint, t.bought_mint) and l.block_time >= ${FROM}
      having count(*) > 0) as value from tokens k`,
  TRADES_24H_DESC: `select k.mint as entity, (select count(*) from trades t join slots l on l.slot = t.slot
      where k.mint in (t.sold_mint, t.bought_mint) and l.block_time >= ${FROM} having count(*) > 0) as value from tokens k`,
  PRICE_CHANGE_24H_DESC: `select k.mint as entity, round((
      (select unit_price_usd from token_prices where mint = k.mint order by slot desc limit 1) /
      nullif((select unit_price_usd from token_prices where mint = k.mint and block_time < ${FROM}
        order by block_time desc, slot desc limit 1), 0) - 1) * 100, 6) as value from tokens k`,
  MARKET_CAP_DESC: `select k.mint as entity, round(k.supply * (case when k.mint = any($1::text[])
      then 1 / 10::numeric ^ k.decimals
      else (select unit_price_usd from token_prices where mint = k.mint order by slot desc limit 1) end), 12) as value
    from tokens k`,
  LIQUIDITY_DESC: `select k.mint as entity, (select sum(v.tvl_usd) from pools p left join ${LATEST_TVL} v on v.pool = p.address
      where k.mint in (p.mint_a, p.mint_b)) as value from tokens k`,
  HOLDERS_DESC: `select k.mint as entity, (select count(*) from token_holders h where h.mint = k.mint and h.amount > 0)
      as value from tokens k`,
  NEWEST: `select mint as entity, first_seen_slot as value from tokens`,
};
const POOL_FIGURES: Record<string, string> = {
  VOLUME_24H_DESC: `select p.address as entity, (select coalesce(sum(s.value_usd), 0) from swaps s join slots l on l.slot = s.slot
      where s.pool = p.address and l.block_time >= ${FROM} having count(*) > 0) as value from pools p`,
  TRADES_24H_DESC: `select p.address as entity, (select count(*) from swaps s join slots l on l.slot = s.slot
      where s.pool = p.address and l.block_time >= ${FROM} having count(*) > 0) as value from pools p`,
  TVL_DESC: `select p.address as entity, v.tvl_usd as value from pools p left join ${LATEST_TVL} v on v.pool = p.address`,
  NEWEST: `select address as entity, first_seen_slot as value from pools`,
};
const ranked = (figures: string) =>
  `select entity, trim_scale(f.value)::text as value from (${figures}) f order by f.value desc nulls last, f.entity`;

const STABLES = parseConfig({}).USD_STABLES;

describe("api: market rankings", () => {
  let h: ApiHarness;
  let blocks: DecodedBlock[];
  const store = () => createStore({ db: h.writer });
  const price = (upTo: number) => createPricer({ db: h.writer, config: parseConfig({}) }).catchUp({ upTo });
  const copies = (js: number[]) => js.flatMap((j) => blocks.map((b) => copyBlock(b, j)));

  beforeAll(async () => {
    h = await setupApi({ fill: false });
    blocks = h.blocks;
    const first = copies([0, 1, 2, 3, 4, 5]);
    await store().writeBlocks(first, { commitment: "confirmed" });
    await price(Math.max(...first.map((c) => c.slot)));
  }, 60_000);
  afterAll(() => h.close());

  /** Checks the newest generation's `ordering` against its recomputation from the raw rows; returns the latter. */
  async function expectNewestExact(field: "tokens" | "pools", ordering: string, sql: string) {
    const want = (
      await h.sql.query<{ entity: string; value: string | null }>(
        ranked(sql),
        ordering === "MARKET_CAP_DESC" ? [STABLES] : [],
      )
    ).rows;
    const stored = await h.sql.query<{ entity: string; value: string | null }>(
      `select entity, value::text from market_rankings where kind = $1 and ordering = $2
         and generation = (select max(generation) from market_rankings) order by rank`,
      [field === "tokens" ? "token" : "pool", ordering],
    );
    expect(stored.rows, `${field} ${ordering}`).toEqual(want);
    return want;
  }

  /** Every page of a ranking, `first` at a time, from `after`. */
  async function pageThrough(field: "tokens" | "pools", ranking: string, first: number, where: object = {}) {
    const key = field === "tokens" ? "mint" : "address";
    const out: string[] = [];
    let after: string | null = null;
    for (;;) {
      const r: GqlResponse = await h.gql(
        `query($r: ${field === "tokens" ? "TokenRanking" : "PoolRanking"}!, $a: String, $w: ${field === "tokens" ? "TokenWhere" : "PoolWhere"}) {
          ${field}(ranking: $r, first: ${first}, after: $a, where: $w) { edges { cursor node { ${key} } } pageInfo { hasNextPage endCursor } } }`,
        { r: ranking, a: after, w: where },
      );
      expect(r.body.errors).toBeUndefined();
      const c = r.body.data[field];
      out.push(...c.edges.map((e: { node: Record<string, string> }) => e.node[key]));
      if (!c.pageInfo.hasNextPage) return out;
      after = c.pageInfo.endCursor;
    }
  }

  test("every token and pool ordering equals its recomputation from the raw rows, page by page", async () => {
    let valued = 0;
    for (const [field, figures] of [
      ["tokens", TOKEN_FIGURES],
      ["pools", POOL_FIGURES],
    ] as const) {
      for (const [ordering, sql] of Object.entries(figures)) {
        const want = await expectNewestExact(field, ordering, sql);
        expect(await pageThrough(field, ordering, 7), `${field} ${ordering}`).toEqual(want.map((w) => w.entity));
        // a ranking that is more than its tie-break: distinct values (but the fixtures' blocks read no
        // mint account, so no supply and no market cap is known: that ordering is all ties here)
        if (ordering !== "MARKET_CAP_DESC")
          expect(new Set(want.map((w) => w.value)).size, `${field} ${ordering}`).toBeGreaterThan(1);
        valued += want.filter((w) => w.value != null).length;
      }
    }
    expect(valued).toBeGreaterThan(0);
  });

  test("filters: minimum liquidity, DEX and creation time, against the raw rows", async () => {
    const liq = await h.sql.query<{ entity: string; value: string }>(`${ranked(TOKEN_FIGURES.LIQUIDITY_DESC!)}`);
    const values = liq.rows
      .filter((r) => r.value != null)
      .map((r) => Number(r.value))
      .sort((a, b) => a - b);
    const floor = String(values[Math.floor(values.length / 2)]);
    const want = (
      await h.sql.query<{ entity: string }>(
        `select f.entity from (${TOKEN_FIGURES.VOLUME_24H_DESC}) f join (${TOKEN_FIGURES.LIQUIDITY_DESC}) l using (entity)
         where l.value >= $1::numeric order by f.value desc nulls last, f.entity`,
        [floor],
      )
    ).rows.map((r) => r.entity);
    expect(want.length).toBeGreaterThan(0);
    expect(want.length).toBeLessThan(liq.rows.length);
    expect(await pageThrough("tokens", "VOLUME_24H_DESC", 3, { minLiquidityUsd: floor })).toEqual(want);

    const dex = (
      await h.sql.query<{ dex: string }>("select dex from pools group by dex order by count(*) desc, dex limit 1")
    ).rows[0]!.dex;
    const byDex = (
      await h.sql.query<{ entity: string }>(
        `select f.entity from (${POOL_FIGURES.TVL_DESC}) f join pools p on p.address = f.entity where p.dex = $1
         order by f.value desc nulls last, f.entity`,
        [dex],
      )
    ).rows.map((r) => r.entity);
    expect(byDex.length).toBeLessThan((await h.sql.query("select 1 from pools")).rowCount!);
    expect(await pageThrough("pools", "TVL_DESC", 4, { dex })).toEqual(byDex);
    const tokensByDex = (
      await h.sql.query<{ entity: string }>(
        `select f.entity from (${TOKEN_FIGURES.NEWEST}) f where exists (select 1 from pools p where p.dex = $1
           and f.entity in (p.mint_a, p.mint_b)) order by f.value desc nulls last, f.entity`,
        [dex],
      )
    ).rows.map((r) => r.entity);
    expect(await pageThrough("tokens", "NEWEST", 4, { dex })).toEqual(tokensByDex);

    const mid = (
      await h.sql.query<{ t: Date }>(
        "select min(l.block_time) as t from tokens k join slots l on l.slot = k.first_seen_slot",
      )
    ).rows[0]!.t;
    const newer = (
      await h.sql.query<{ entity: string }>(
        `select f.entity from (${TOKEN_FIGURES.TRADES_24H_DESC}) f join tokens k on k.mint = f.entity
           join slots l on l.slot = k.first_seen_slot where l.block_time > $1 order by f.value desc nulls last, f.entity`,
        [mid],
      )
    ).rows.map((r) => r.entity);
    expect(newer.length).toBeGreaterThan(0);
    expect(newer.length).toBeLessThan((await h.sql.query("select 1 from tokens")).rowCount!);
    expect(await pageThrough("tokens", "TRADES_24H_DESC", 5, { createdAfter: mid.toISOString() })).toEqual(newer);
  });

  test("paging while newer generations are written neither skips nor repeats, until the cursor's generation is pruned", async () => {
    const before = (await h.sql.query<{ entity: string }>(ranked(TOKEN_FIGURES.VOLUME_24H_DESC!))).rows.map(
      (r) => r.entity,
    );
    const page = async (after: string | null) => {
      const r = await h.gql(
        `query($a: String) { tokens(ranking: VOLUME_24H_DESC, first: 4, after: $a) {
           edges { node { mint } } pageInfo { hasNextPage endCursor } } }`,
        { a: after },
      );
      return r;
    };
    const seen: string[] = [];
    let r = await page(null);
    seen.push(...r.body.data.tokens.edges.map((e: { node: { mint: string } }) => e.node.mint));
    let after: string = r.body.data.tokens.pageInfo.endCursor;
    // later copies of one block only: the 24 h window moves past the other block's trades, and the order changes
    const later = [6, 7].map((j) => copyBlock(blocks[0]!, j));
    await store().writeBlocks(later, { commitment: "confirmed" });
    await price(Math.max(...later.map((c) => c.slot)));
    const now = (await h.sql.query<{ entity: string }>(ranked(TOKEN_FIGURES.VOLUME_24H_DESC!))).rows.map(
      (r) => r.entity,
    );
    expect(now).not.toEqual(before);
    for (;;) {
      r = await page(after);
      expect(r.body.errors).toBeUndefined();
      seen.push(...r.body.data.tokens.edges.map((e: { node: { mint: string } }) => e.node.mint));
      if (!r.body.data.tokens.pageInfo.hasNextPage) break;
      after = r.body.data.tokens.pageInfo.endCursor;
    }
    expect(seen).toEqual(before);
    // a fresh first page reads the new generation
    expect((await page(null)).body.data.tokens.edges.map((e: { node: { mint: string } }) => e.node.mint)).toEqual(
      now.slice(0, 4),
    );

    // the cursor's generation once RANKING_GENERATIONS newer ones exist: refused, never silently another ranking
    const old = (await page(null)).body.data.tokens.pageInfo.endCursor;
    for (let j = 8; j < 8 + RANKING_GENERATIONS; j++) {
      const more = copies([j]);
      await store().writeBlocks(more, { commitment: "confirmed" });
      await price(Math.max(...more.map((c) => c.slot)));
    }
    const gone = await page(old);
    expect(gone.body.errors?.[0]?.extensions?.code).toBe("BAD_CURSOR");
    const kept = await h.sql.query("select distinct generation from market_rankings");
    expect(kept.rowCount).toBe(RANKING_GENERATIONS);
  }, 60_000);

  test("a rollback drops the generations at or above it; an idle run writes the one at the cursor", async () => {
    const gens = async () =>
      (
        await h.sql.query<{ g: string }>("select distinct generation::text as g from market_rankings order by 1")
      ).rows.map((r) => Number(r.g));
    const before = await gens();
    const newest = before.at(-1)!;
    const slot = (
      await h.sql.query<{ s: string }>(
        "select max(slot)::text as s from slots where status = 'indexed' and slot <= $1",
        [newest],
      )
    ).rows[0]!.s;
    await store().rollbackSlots([Number(slot)]);
    expect((await gens()).every((g) => g < Number(slot))).toBe(true);
    // nothing left to price up to the cursor the rollback set: the idle run still leaves a generation at it
    const cursor = Number((await h.sql.query("select slot from cursors where id = 'pricing'")).rows[0]!.slot);
    await createPricer({ db: h.writer, config: parseConfig({}) }).advance({ upTo: cursor });
    expect((await gens()).at(-1)).toBe(cursor);
    expect(
      (await h.sql.query("select 1 from market_rankings where generation = $1 and kind = 'token'", [cursor])).rowCount,
    ).toBeGreaterThan(0);
  });

  test("a busy stage writes one generation per RANKINGS_MIN_INTERVAL_S of chain time; the idle run writes the one at the cursor, exact", async () => {
    const generations = async () =>
      (
        await h.sql.query<{ g: string }>("select distinct generation::text as g from market_rankings order by 1")
      ).rows.map((r) => Number(r.g));
    const cursor = async () =>
      Number((await h.sql.query("select slot from cursors where id = 'pricing'")).rows[0]!.slot);
    // more than one copy's shift of the chain clock, less than two
    const interval = SHIFT_S + 1_800;
    const run = async (j: number, everyS: number) => {
      const more = copies([j]);
      await store().writeBlocks(more, { commitment: "confirmed" });
      const config = parseConfig({ RANKINGS_MIN_INTERVAL_S: String(everyS) });
      await createPricer({ db: h.writer, config }).catchUp({ upTo: Math.max(...more.map((c) => c.slot)) });
    };
    await run(20, 0);
    const first = await cursor();
    expect((await generations()).at(-1)).toBe(first);
    // the next copy is SHIFT_S later on the chain clock: within the interval, no generation
    await run(21, interval);
    expect((await generations()).at(-1)).toBe(first);
    // two copies later the clock has moved past it: one generation for the two runs
    await run(22, interval);
    const second = await cursor();
    expect((await generations()).filter((g) => g > first)).toEqual([second]);
    for (const [ordering, sql] of Object.entries(TOKEN_FIGURES)) await expectNewestExact("tokens", ordering, sql);
    for (const [ordering, sql] of Object.entries(POOL_FIGURES)) await expectNewestExact("pools", ordering, sql);
    // busy again within the interval: none, until an idle run finds the newest generation behind its cursor
    await run(23, interval);
    expect((await generations()).at(-1)).toBe(second);
    const third = await cursor();
    const config = parseConfig({ RANKINGS_MIN_INTERVAL_S: String(interval) });
    expect(await createPricer({ db: h.writer, config }).advance({ upTo: third })).toMatchObject({ slots: 0 });
    expect((await generations()).at(-1)).toBe(third);
    for (const [ordering, sql] of Object.entries(TOKEN_FIGURES)) await expectNewestExact("tokens", ordering, sql);
    for (const [ordering, sql] of Object.entries(POOL_FIGURES)) await expectNewestExact("pools", ordering, sql);
  }, 60_000);
});
