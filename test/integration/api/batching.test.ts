import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DASHBOARD_QUERY } from "../../../api/server/index.js";
import { VALUE_SENSITIVE, createReadPath, createReadPool, sql } from "../../../api/sql/index.js";
import { createPipelinedReader } from "../../../api/sql/pipeline.js";
import { createSlowGate } from "../../../api/sql/slow-gate.js";
import { compile } from "../../../api/sql/sql.js";
import { type ApiHarness, PLAIN, SQL_MODE, countStatements, setupApi } from "./harness.js";

const DASHBOARD = `{ pools(first: 50) { edges { node { tokenA { symbol } tokenB { symbol }
  swaps(first: 10) { edges { node { trader amountIn tokenIn { symbol } } } } } } } }`;

describe("api batching", () => {
  let h: ApiHarness;
  beforeAll(async () => {
    // These pages count statements per list level; a transaction's lists are priced at 64-128 rows each, which puts
    // pages of tens of transactions over the default cost limit.
    h = await setupApi({ api: { maxCost: 50_000 } });
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
    for (const row of rows)
      expected.set(row.pool, [...(expected.get(row.pool) ?? []), { trader: row.trader, amountIn: row.amount_in }]);
    const addresses = (await h.gql(`{ pools(first: 50) { edges { node { address } } } }`)).body.data.pools.edges.map(
      (e: any) => e.node.address,
    );
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
    await h.gql(
      DASHBOARD.replace("pools(first: 50)", "pools(first: 73)").replace("swaps(first: 10)", "swaps(first: 100)"),
    );
    expect(h.statements.count).toBeLessThanOrEqual(4);
    h.statements.reset();
    await h.gql(DASHBOARD.replace("pools(first: 50)", "pools(first: 3)"));
    expect(h.statements.count).toBeLessThanOrEqual(4);
  });

  test("a wallet's swaps with their pools: one round trip, the same pools as the loader reads, null for a pool not stored", async () => {
    const { rows } = await h.sql.query<{ trader: string }>(
      `select trader from swaps group by trader order by count(*) desc limit 1`,
    );
    const query = `{ account(address: "${rows[0]!.trader}") { swaps(first: 50) { edges { node { signature pool { address dex mintA } } } } } }`;
    h.statements.reset();
    const r = await h.gql(query);
    expect(r.body.errors).toBeUndefined();
    // pipelined: the page and its pools in one pipeline; plain: a round trip per statement
    expect(h.statements.roundTrips).toBe(PLAIN ? h.statements.count : 1);
    const edges = r.body.data.account.swaps.edges;
    expect(edges.length).toBeGreaterThan(0);
    const { rows: pools } = await h.sql.query<{ address: string; dex: string; mint_a: string }>(
      `select address, dex, mint_a from pools`,
    );
    const byAddress = new Map(pools.map((p) => [p.address, { address: p.address, dex: p.dex, mintA: p.mint_a }]));
    const { rows: swaps } = await h.sql.query<{ signature: string; pool: string }>(
      `select signature, pool from swaps where trader = $1`,
      [rows[0]!.trader],
    );
    const poolOf = new Map(swaps.map((s) => [s.signature, s.pool]));
    for (const e of edges) expect(e.node.pool).toEqual(byAddress.get(poolOf.get(e.node.signature)!) ?? null);
    // A swap whose pool row is missing (not stored yet) reads as null, still in one round trip.
    const gone = poolOf.get(edges[0].node.signature)!;
    const saved = (await h.sql.query(`select row_to_json(p) as r from pools p where address = $1`, [gone])).rows[0].r;
    await h.sql.query(`delete from pools where address = $1`, [gone]);
    try {
      h.statements.reset();
      const m = await h.gql(
        `{ swaps(first: 5, where: { pool: "${gone}" }) { edges { node { signature pool { address } } } } }`,
      );
      expect(m.body.errors).toBeUndefined();
      expect(m.body.data.swaps.edges.length).toBeGreaterThan(0);
      for (const e of m.body.data.swaps.edges) expect(e.node.pool).toBeNull();
      expect(h.statements.roundTrips).toBe(PLAIN ? h.statements.count : 1);
    } finally {
      await h.sql.query(`insert into pools select * from json_populate_record(null::pools, $1)`, [saved]);
    }
  });

  test("transactions -> swaps, transfers and events: one statement per list level", async () => {
    h.statements.reset();
    const r = await h.gql(
      `{ transactions(first: 90) { edges { node { signature swaps { pool { dex } } transfers { token { decimals } } events { name } } } } }`,
    );
    expect(r.body.errors).toBeUndefined();
    // transactions (pipelined: with the switch to auto plans before it, api/sql/pipeline.ts); swaps + transfers +
    // events (same tick); pools + tokens (same tick)
    expect(h.statements.count).toBeLessThanOrEqual(7);
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
    // pools (pipelined: with the switch to auto plans before it, api/sql/pipeline.ts), count, status (2), chain
    // clock, tokens, volumes, candles, swaps
    expect(h.statements.count).toBeLessThanOrEqual(11);
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
    const r = await h.gql(
      `{ swaps(first: 100) { edges { node { tokenIn { mint } tokenOut { mint } pool { tokenA { mint } tokenB { mint } } } } } }`,
    );
    expect(r.body.errors).toBeUndefined();
    // swaps + their pools (same batch); tokens; the pools' tokens not yet seen
    expect(h.statements.count).toBeLessThanOrEqual(4);
    expect(h.statements.texts.filter((t) => / pools t\b/.test(t)).length).toBe(1);
  });

  test("a token page (token, its pools, its transfers) is one round trip; a pool page (pool, swaps, clock; tokens, candles) two", async () => {
    const { rows } = await h.sql.query<{ mint: string; pool: string }>(
      `select s.mint_in as mint, s.pool from swaps s group by 1, 2 order by count(*) desc limit 1`,
    );
    const { mint, pool } = rows[0]!;
    h.statements.reset();
    const t = await h.gql(
      `{ token(mint: "${mint}") { mint pools(first: 3) { edges { node { address } } } transfers(first: 5) { edges { node { amount } } } } }`,
    );
    expect(t.body.errors).toBeUndefined();
    expect(h.statements.roundTrips).toBe(PLAIN ? 3 : 1);
    expect(h.statements.count).toBe(3);
    const direct = (await h.sql.query(`select count(*)::int n from token_transfers where mint = $1`, [mint])).rows[0].n;
    expect(t.body.data.token.transfers.edges).toHaveLength(Math.min(5, direct));
    h.statements.reset();
    const p = await h.gql(
      `{ pool(address: "${pool}") { address tokenA { decimals } swaps(first: 4) { edges { node { amountIn } } } candles(interval: H1) { open swaps } } }`,
    );
    expect(p.body.errors).toBeUndefined();
    expect(p.body.data.pool.swaps.edges).toHaveLength(4);
    expect(p.body.data.pool.candles.length).toBeGreaterThan(0);
    expect(h.statements.roundTrips).toBe(PLAIN ? h.statements.count : 2);
    // An unknown token: null, and the children's prefetched reads are simply unused.
    const none = await h.gql(`{ token(mint: "nope") { mint transfers(first: 2) { edges { node { amount } } } } }`);
    expect(none.body).toEqual({ data: { token: null } });
  });

  test("a failing statement in a batch fails the request with its coded error and the next request is served", async () => {
    const bad = await h.gql(
      `{ token(mint: "So11111111111111111111111111111111111111112") { mint transfers(first: 2, after: "bm90LWEtY3Vyc29y") { edges { node { amount } } } } }`,
    );
    expect(bad.body.errors?.[0]?.extensions?.code).toBe("BAD_CURSOR");
    // A statement that fails inside Postgres (division by zero through a cursor key of the wrong shape is not
    // reachable from GraphQL), so fail one directly: a good and a failing statement of one request on the API's
    // reader. Pipelined, they are one batch, which fails as a whole; plain, each is a query of its own.
    const reader = createReadPath(h.pool, { mode: SQL_MODE }).reader({});
    const results = await Promise.allSettled([
      reader.rows(sql`select 1 as one`),
      reader.rows(sql`select 1 / ${0}::int as boom`),
    ]);
    expect(results.map((r) => r.status)).toEqual([PLAIN ? "fulfilled" : "rejected", "rejected"]);
    expect(((results[1] as PromiseRejectedResult).reason as { code?: string }).code).toBe("22012");
    const again = await h.gql(
      `{ token(mint: "So11111111111111111111111111111111111111112") { mint pools(first: 1) { edges { node { address } } } } }`,
    );
    expect(again.body.errors).toBeUndefined();
    expect(again.body.data.token.mint).toBe("So11111111111111111111111111111111111111112");
  });

  // Grouping, plan modes and clocked batches exist in the pipelined mode only: in plain mode each statement is a query
  // of its own (test/integration/api/sql-mode.test.ts covers that).
  describe.skipIf(PLAIN)("the pipelined mode's own machinery (skipped in plain mode)", () => {
    test("quick statements of requests ready in the same turn share one pipeline, 8 requests at most; each gets its own rows or its own error", async () => {
      const pool = createReadPool(h.url, { max: 4 });
      const counted = countStatements(pool);
      const gate = createSlowGate({ concurrency: 1 });
      const echo = (i: number) => sql`select ${i}::int as i, current_setting('plan_cache_mode') as mode`;
      const sensitive = (i: number) => sql`select ${i}::int as j, current_setting('plan_cache_mode') as mode`;
      const boom = (i: number) => sql`select 1 / ${i}::int as boom`;
      try {
        // shapes the lane has not seen yet run one request per round trip (one of them could be slow)
        counted.reset();
        const first = await Promise.all(
          [0, 1, 2].map((i) => createPipelinedReader(pool, { gate }).rows<{ i: number }>(echo(i))),
        );
        expect(first.map((r) => r[0]!.i)).toEqual([0, 1, 2]);
        expect(counted.roundTrips).toBe(3);
        await createPipelinedReader(pool, { gate }).rows(sensitive(0), VALUE_SENSITIVE);
        await createPipelinedReader(pool, { gate }).rows(boom(1));

        // known quick: ten requests (each a statement on a generic plan and a value-sensitive one) in two pipelines
        counted.reset();
        const got = await Promise.all(
          Array.from({ length: 10 }, (_, i) => {
            const reader = createPipelinedReader(pool, { gate });
            return Promise.all([
              reader.rows<{ i: number; mode: string }>(echo(i)),
              reader.rows<{ j: number; mode: string }>(sensitive(100 + i), VALUE_SENSITIVE),
            ]);
          }),
        );
        got.forEach(([a, b], i) => {
          expect(a).toEqual([{ i, mode: "force_generic_plan" }]);
          expect(b).toEqual([{ j: 100 + i, mode: "auto" }]);
        });
        expect(counted.roundTrips).toBe(2);
        expect(counted.count).toBe(2 * 10 + 2); // each pipeline's one switch to auto plans

        // a failing statement in a pipeline: its group runs again one request at a time
        counted.reset();
        const mixed = await Promise.allSettled(
          [1, 0, 2].map((d) => createPipelinedReader(pool, { gate }).rows<{ boom: number }>(boom(d))),
        );
        expect(mixed[0]).toEqual({ status: "fulfilled", value: [{ boom: 1 }] });
        expect(mixed[1]!.status).toBe("rejected");
        expect(((mixed[1] as PromiseRejectedResult).reason as { code?: string }).code).toBe("22012");
        expect(mixed[2]).toEqual({ status: "fulfilled", value: [{ boom: 0 }] });
        expect(counted.roundTrips).toBe(1 + 3);

        // a request aborted before its group leaves is answered QUERY_CANCELLED; the others are served
        counted.reset();
        const abort = new AbortController();
        const pending = [0, 1, 2].map((i) =>
          createPipelinedReader(pool, { gate, signal: i === 1 ? abort.signal : undefined }).rows<{ i: number }>(
            echo(i),
          ),
        );
        abort.abort();
        const settled = await Promise.allSettled(pending);
        expect(settled[0]).toEqual({ status: "fulfilled", value: [{ i: 0, mode: "force_generic_plan" }] });
        expect((settled[1] as PromiseRejectedResult).reason?.extensions?.code).toBe("QUERY_CANCELLED");
        expect(settled[2]).toEqual({ status: "fulfilled", value: [{ i: 2, mode: "force_generic_plan" }] });
        expect(counted.roundTrips).toBe(1);
      } finally {
        await pool.end();
      }
    });

    test("loaders' statements run on one generic plan per connection; top-level lists (value-sensitive) on Postgres' default", async () => {
      const { rows: top } = await h.sql.query<{ pool: string }>(
        `select pool from swaps group by pool order by count(*) desc limit 2`,
      );
      const keys = top.map((r) => r.pool);
      const pool = createReadPool(h.url, { max: 1 });
      try {
        // a child list's shape (api/sql/page.ts): under auto, Postgres plans it again at every execution (its generic
        // plan counts ten keys), which costs more than running it
        const childList = (k: string[]) =>
          sql`select p.__parent, x.signature from unnest(${k}::text[]) as p(__parent)
            cross join lateral (select t.signature from swaps t where t.pool = p.__parent order by t.slot desc limit ${3}) x`;
        const mode = (i: number) => sql`select current_setting('plan_cache_mode') as mode, ${i}::int as i`;
        for (let i = 0; i < 8; i++) {
          // one request: a loader, a value-sensitive statement and another statement, in one batch
          const reader = createPipelinedReader(pool);
          const [rows, sensitive, generic] = await Promise.all([
            reader.rows<{ signature: string }>(childList(keys.slice(0, 1 + (i % 2)))),
            reader.rows<{ mode: string }>(mode(i), VALUE_SENSITIVE),
            reader.rows<{ mode: string }>(mode(1000 + i)),
          ]);
          expect(rows.length).toBe(3 * (1 + (i % 2)));
          expect(sensitive[0]!.mode).toBe("auto");
          expect(generic[0]!.mode).toBe("force_generic_plan");
        }
        // a value-sensitive statement alone gets the switch too; the next batch on the connection is back on generic
        // plans
        expect((await createPipelinedReader(pool).rows<{ mode: string }>(mode(100), VALUE_SENSITIVE))[0]!.mode).toBe(
          "auto",
        );
        expect((await createPipelinedReader(pool).rows<{ mode: string }>(mode(101)))[0]!.mode).toBe(
          "force_generic_plan",
        );
        const { text } = compile(childList(keys));
        const plans = await createPipelinedReader(pool).rows<{ generic: number; custom: number }>(
          sql`select generic_plans as generic, custom_plans as custom from pg_prepared_statements where statement = ${text}`,
        );
        expect(plans).toEqual([{ generic: 8, custom: 0 }]);
      } finally {
        await pool.end();
      }
    });

    test("a clocked batch times each statement on Postgres' clock; the reader runs a shape not measured yet in the lane, clocked", async () => {
      const { runBatch } = await import("../../../api/sql/batch.js");
      const pg = await import("pg");
      const client = await h.pool.connect();
      try {
        const statements = [
          { text: "select pg_sleep(0.03)::text as slept", name: "", values: [] },
          { text: "select $1::int + 1 as n", name: "", values: [41] },
        ];
        const r = await runBatch(client, statements, pg.default.types, true);
        expect(r.rows).toEqual([[{ slept: "" }], [{ n: 42 }]]);
        expect(r.serverMs![0]).toBeGreaterThanOrEqual(29);
        expect(r.serverMs![0]).toBeLessThan(1_000);
        expect(r.serverMs![1]).toBeLessThan(r.serverMs![0]!);
      } finally {
        client.release();
      }
      // Through the reader: the shape's first run is unmeasured, so it runs in the lane and is clocked, which makes
      // the shape slow; the second runs in the lane on the API's clock.
      const gate = createSlowGate({ concurrency: 1 });
      let entered = 0;
      const enter = gate.enter;
      gate.enter = (signal) => (entered++, enter(signal));
      const seen: { ms: number; clocked: boolean }[] = [];
      const observe = gate.observe;
      gate.observe = (text, ms, clocked = false) => (
        text.includes("pg_sleep") && seen.push({ ms, clocked }), observe(text, ms, clocked)
      );
      for (let i = 0; i < 2; i++)
        await createPipelinedReader(h.pool, { gate }).rows(sql`select pg_sleep(0.03)::text as slept, ${i}::int as i`);
      expect(seen.map((x) => x.clocked)).toEqual([true, false]);
      expect(seen[0]!.ms).toBeGreaterThanOrEqual(29);
      expect(entered).toBe(2);
      expect(gate.isSlow(`select pg_sleep(0.03)::text as slept, $1::int as i`)).toBe(true);
      // A quick shape's first run is gated and clocked too; measured quick, its next run is not gated.
      entered = 0;
      for (let i = 0; i < 2; i++) await createPipelinedReader(h.pool, { gate }).rows(sql`select ${i}::int as quick`);
      expect(entered).toBe(1);
      expect(gate.isQuick("select $1::int as quick")).toBe(true);
      // A value-sensitive statement (a top-level list: the flood's shape) runs after the switch to auto plans, whose
      // answer comes with its own: the switch's time is the statement's, on either clock.
      seen.length = 0;
      for (let i = 0; i < 2; i++)
        await createPipelinedReader(h.pool, { gate }).rows(
          sql`select pg_sleep(0.03)::text as slept, ${i}::int as j`,
          VALUE_SENSITIVE,
        );
      expect(seen.map((x) => x.clocked)).toEqual([true, false]);
      expect(seen.every((x) => x.ms >= 29)).toBe(true);
      expect(gate.isSlow(`select pg_sleep(0.03)::text as slept, $1::int as j`)).toBe(true);
    });
  });
});
