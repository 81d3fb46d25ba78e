/**
 * The read path's switch (API_SQL_MODE): the same API over a plain pool and over a pipelined one answers the same,
 * while plain sends every statement as an ordinary query of its own (no batch, no prepared-statement name, Postgres'
 * default plans) and pipelined batches them. Runs both modes whatever TEST_API_SQL_MODE says.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Api, DASHBOARD_QUERY, createApi } from "../../../api/server/index.js";
import { type SqlMode, createReadPath, createReadPool, sql } from "../../../api/sql/index.js";
import { createLogger } from "../../../core/logger.js";
import { type ApiHarness, setupApi } from "./harness.js";

/** What one `client.query` call on a pool's connections carried. */
type Call = { statements: number; named: boolean };

/** Records every query call on the connections of `pool`: how many statements it carried, and whether it named one. */
function recordCalls(pool: pg.Pool): Call[] {
  const calls: Call[] = [];
  pool.on("connect", (client) => {
    const original = client.query.bind(client) as (...a: unknown[]) => unknown;
    (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const q = args[0] as { name?: string; statements?: readonly { name: string }[] };
      calls.push(
        q?.statements
          ? { statements: q.statements.length, named: q.statements.some((s) => s.name !== "") }
          : { statements: 1, named: typeof q?.name === "string" && q.name !== "" },
      );
      return original(...args);
    };
  });
  return calls;
}

/** Holds an ACCESS EXCLUSIVE lock on `tokens` so every read of it waits. */
async function lockTokens(url: string): Promise<{ release(): Promise<void> }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query("begin");
  await c.query("lock table tokens in access exclusive mode");
  return {
    async release() {
      await c.query("rollback");
      await c.end();
    },
  };
}

const PAGES = [
  DASHBOARD_QUERY,
  `{ tokens(first: 5) { edges { node { mint supplyUi pools(first: 2) { edges { node { address price } } } } } } }`,
  `{ transactions(first: 20) { edges { node { signature fee swaps { amountInUi pool { dex } } events { name } } } } }`,
];

describe("api read path: plain and pipelined modes", () => {
  let h: ApiHarness;
  const modes = {} as Record<SqlMode, { pool: pg.Pool; calls: Call[]; api: Api }>;
  const silent = createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" });
  beforeAll(async () => {
    h = await setupApi();
    for (const mode of ["plain", "pipelined"] as const) {
      const pool = createReadPool(h.url, { max: 4, statementTimeoutMs: 300, mode });
      const calls = recordCalls(pool);
      const api = createApi(
        { config: { QUEUE_PREFIX: h.prefix }, logger: silent, pool },
        // maxCost: a page of 20 transactions with their swaps and events is over the default (each list of a
        // transaction is priced at 64-128 rows); this test compares the modes' statements, not pricing.
        { rateLimit: false, slowQueryConcurrency: 0, sqlMode: mode, maxCost: 50_000 },
      );
      modes[mode] = { pool, calls, api };
    }
  });
  afterAll(async () => {
    for (const m of Object.values(modes)) await m.pool.end();
    await h.close();
  });

  const ask = async (api: Api, query: string) => {
    const r = await api.fetch("http://test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query }),
    });
    return (await r.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
  };

  test("both modes answer the same pages; plain sends one unnamed statement per query, pipelined batches", async () => {
    for (const m of Object.values(modes)) m.calls.length = 0;
    // several requests at once: pipelined may group them, plain must not
    const plain = await Promise.all(PAGES.map((q) => ask(modes.plain.api, q)));
    const pipelined = await Promise.all(PAGES.map((q) => ask(modes.pipelined.api, q)));
    for (const a of plain) expect(a.errors).toBeUndefined();
    expect(plain).toEqual(pipelined);

    const p = modes.plain.calls;
    expect(p.length).toBeGreaterThan(PAGES.length);
    expect(p.filter((c) => c.statements !== 1 || c.named)).toEqual([]);
    const q = modes.pipelined.calls;
    expect(q.some((c) => c.statements > 1)).toBe(true);
    expect(q.every((c) => c.named)).toBe(true);
    // the same statements, fewer round trips (pipelined adds a switch to auto plans before value-sensitive ones)
    expect(q.length).toBeLessThan(p.length);
  });

  test("plain sessions plan as Postgres does by default; pipelined ones force generic plans", async () => {
    const mode = async (pool: pg.Pool) => (await pool.query("show plan_cache_mode")).rows[0].plan_cache_mode;
    expect(await mode(modes.plain.pool)).toBe("auto");
    expect(await mode(modes.pipelined.pool)).toBe("force_generic_plan");
  });

  test("both modes answer a statement over the timeout with QUERY_TIMEOUT", async () => {
    const lock = await lockTokens(h.url);
    try {
      for (const m of Object.values(modes)) {
        const r = await ask(m.api, `{ tokens(first: 1) { totalCount } }`);
        expect(r.errors?.[0]?.extensions?.code).toBe("QUERY_TIMEOUT");
      }
    } finally {
      await lock.release();
    }
  });

  test("plain: a request aborted while its statement runs cancels the backend query (QUERY_CANCELLED)", async () => {
    const pool = createReadPool(h.url, {
      max: 2,
      statementTimeoutMs: 30_000,
      mode: "plain",
      applicationName: "mode-t",
    });
    const active = async () =>
      (
        await h.sql.query(
          `select count(*)::int n from pg_stat_activity where application_name = 'mode-t' and state = 'active'`,
        )
      ).rows[0].n as number;
    try {
      const abort = new AbortController();
      const reader = createReadPath(pool, { mode: "plain" }).reader({ signal: abort.signal });
      const sleeping = reader.rows(sql`select pg_sleep(20) as slept`);
      for (let i = 0; i < 50 && (await active()) === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await active()).toBe(1);
      abort.abort();
      await expect(sleeping).rejects.toMatchObject({ extensions: { code: "QUERY_CANCELLED" } });
      const deadline = performance.now() + 1_000;
      while ((await active()) > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(await active()).toBe(0);
      // aborted before it leaves: answered at once
      await expect(reader.rows(sql`select 1 as one`)).rejects.toMatchObject({
        extensions: { code: "QUERY_CANCELLED" },
      });
    } finally {
      await pool.end();
    }
  });
});
