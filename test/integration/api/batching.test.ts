import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DASHBOARD_QUERY } from "../../../api/example.js";
import { type ApiHarness, setupApi } from "./harness.js";

const DASHBOARD = `{ pools(first: 50) { edges { node { tokenA { symbol } tokenB { symbol }
  swaps(first: 10) { edges { node { trader amountIn tokenIn { symbol } } } } } } } }`;

describe("api batching", () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await setupApi();
  });
  afterAll(() => h.close());

  test("pools -> tokens -> swaps -> tokens runs in at most 4 statements, with every pool's newest swaps", async () => {
    h.statements.reset();
    const r = await h.gql(DASHBOARD);
    expect(r.body.errors).toBeUndefined();
    expect(h.statements.count).toBeLessThanOrEqual(4);
    const pools = r.body.data.pools.edges.map((e: any) => e.node);
    expect(pools).toHaveLength(50);
    // Each pool's swaps are that pool's newest 10, as SQL says.
    const { rows } = await h.sql.query<{ pool: string; trader: string; amount_in: string }>(
      `select pool, trader, amount_in::text from (
         select s.*, row_number() over (partition by pool order by slot desc, tx_index desc, instruction_path desc) rn from swaps s) x
       where rn <= 10 order by pool, slot desc, tx_index desc, instruction_path desc`,
    );
    const expected = new Map<string, { trader: string; amountIn: string }[]>();
    for (const row of rows) expected.set(row.pool, [...(expected.get(row.pool) ?? []), { trader: row.trader, amountIn: row.amount_in }]);
    const addresses = (await h.gql(`{ pools(first: 50) { edges { node { address } } } }`)).body.data.pools.edges.map((e: any) => e.node.address);
    let swapsSeen = 0;
    pools.forEach((p: any, i: number) => {
      const got = p.swaps.edges.map((e: any) => ({ trader: e.node.trader, amountIn: e.node.amountIn }));
      expect(got).toEqual(expected.get(addresses[i]) ?? []);
      swapsSeen += got.length;
    });
    expect(swapsSeen).toBeGreaterThan(50);
  });

  test("the statement count does not grow with more rows or more pools", async () => {
    h.statements.reset();
    await h.gql(DASHBOARD.replace("pools(first: 50)", "pools(first: 73)").replace("swaps(first: 10)", "swaps(first: 100)"));
    expect(h.statements.count).toBeLessThanOrEqual(4);
    h.statements.reset();
    await h.gql(DASHBOARD.replace("pools(first: 50)", "pools(first: 3)"));
    expect(h.statements.count).toBeLessThanOrEqual(4);
  });

  test("transactions -> swaps, transfers and events: one statement per list level", async () => {
    h.statements.reset();
    const r = await h.gql(`{ transactions(first: 90) { edges { node { signature swaps { pool { dex } } transfers { token { decimals } } events { name } } } } }`);
    expect(r.body.errors).toBeUndefined();
    // transactions; swaps + transfers + events (same tick); pools + tokens (same tick)
    expect(h.statements.count).toBeLessThanOrEqual(6);
    const withSwaps = r.body.data.transactions.edges.filter((e: any) => e.node.swaps.length > 0);
    expect(withSwaps.length).toBeGreaterThan(0);
  });

  test("the demo's dashboard query works on real blocks, within the guards, in a handful of statements", async () => {
    h.statements.reset();
    const r = await h.gql(DASHBOARD_QUERY);
    expect(r.body.errors).toBeUndefined();
    const pools = r.body.data.pools.edges.map((e: any) => e.node);
    expect(pools).toHaveLength(5);
    expect(pools[0].swaps.edges.length).toBeGreaterThan(0);
    expect(pools[0].volume.swaps).toBeGreaterThan(0);
    expect(pools[0].candles.length).toBeGreaterThan(0);
    // pools, count, status (2), chain clock, tokens, volumes, candles, swaps
    expect(h.statements.count).toBeLessThanOrEqual(10);
  });

  test("loaders live for one request: a row changed between two requests reads new in the second", async () => {
    const q = `{ token(mint: "So11111111111111111111111111111111111111112") { symbol } }`;
    expect((await h.gql(q)).body.data.token.symbol).toBeNull();
    await h.sql.query(`update tokens set symbol = 'SOL' where mint = 'So11111111111111111111111111111111111111112'`);
    expect((await h.gql(q)).body.data.token.symbol).toBe("SOL");
    await h.sql.query(`update tokens set symbol = null where mint = 'So11111111111111111111111111111111111111112'`);
  });

  test("the same token asked for in many places is fetched once per request", async () => {
    h.statements.reset();
    const r = await h.gql(`{ swaps(first: 100) { edges { node { tokenIn { mint } tokenOut { mint } pool { tokenA { mint } tokenB { mint } } } } } }`);
    expect(r.body.errors).toBeUndefined();
    // swaps; tokens + pools (same tick); the pools' tokens not yet seen
    expect(h.statements.count).toBeLessThanOrEqual(4);
    expect(h.statements.texts.filter((t) => t.includes("from pools t")).length).toBe(1);
  });
});
