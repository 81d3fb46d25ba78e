/** Operations: health/ready/metrics, masking, timeouts, cancellation, read-only, CORS, API keys, rate limits. */
import { createRequire } from "node:module";
import pg from "pg";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { schema } from "../../../api/graph/index.js";
import { createApi, startApi } from "../../../api/server/index.js";
import { READY_CACHE_MS } from "../../../api/server/routes-plugin.js";
import { createReadPool } from "../../../api/sql/index.js";
import { parseConfig } from "../../../core/config.js";
import { statusKey } from "../../../core/events.js";
import { createLogger } from "../../../core/logger.js";
import { type ApiHarness, SQL_MODE, setupApi } from "./harness.js";

// printSchema from the copy of graphql that Pothos built the schema with (Node loads its CommonJS build).
const { printSchema } = createRequire(import.meta.url)("graphql") as typeof import("graphql");
const silent = createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" });
const post = (query: string, headers: Record<string, string> = {}) => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify({ query }),
});

/** Holds an ACCESS EXCLUSIVE lock on `tokens` so every API read of it waits (a deterministic slow query). */
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

const METRICS_KEY = "metrics-key-0123456789";

describe("api operations", () => {
  let h: ApiHarness;
  let redis: Redis;
  beforeAll(async () => {
    redis = new Redis(inject("redisUrl"));
    h = await setupApi({
      statementTimeoutMs: 300,
      context: { redis },
      api: { readyMaxLagSlots: null, metricsKey: METRICS_KEY },
    });
  });
  afterAll(async () => {
    redis.disconnect();
    await h.close();
  });

  test("/health answers 200, /ready 200 once the database answers", async () => {
    expect((await h.api.fetch("http://test/health")).status).toBe(200);
    expect((await h.api.fetch("http://test/ready")).status).toBe(200);
  });

  test("/ready is 503 while the database is unreachable, and by option while the indexer lags the tip", async () => {
    const dead = createReadPool("postgres://postgres:postgres@127.0.0.1:1/none", { max: 1, mode: SQL_MODE });
    const down = createApi({ config: { QUEUE_PREFIX: h.prefix }, logger: silent, pool: dead }, { sqlMode: SQL_MODE });
    const r = await down.fetch("http://test/ready");
    expect(r.status).toBe(503);
    expect(await r.json()).toMatchObject({ status: "not ready" });
    await dead.end();

    const lagging = createApi(
      { config: { QUEUE_PREFIX: h.prefix }, logger: silent, pool: h.pool, redis },
      { readyMaxLagSlots: 10, sqlMode: SQL_MODE },
    );
    const latest = Math.max(...h.blocks.map((b) => b.slot));
    await redis.hset(statusKey(h.prefix), { chainTip: String(latest + 100) });
    expect((await lagging.fetch("http://test/ready")).status).toBe(503);
    await redis.hset(statusKey(h.prefix), { chainTip: String(latest + 5) });
    // the answer is reused for READY_CACHE_MS
    expect((await lagging.fetch("http://test/ready")).status).toBe(503);
    await new Promise((r) => setTimeout(r, READY_CACHE_MS));
    expect((await lagging.fetch("http://test/ready")).status).toBe(200);
    await redis.del(statusKey(h.prefix));
  });

  test("/ready reuses its answer for READY_CACHE_MS: a flood of probes costs one statement", async () => {
    const api = createApi({ config: { QUEUE_PREFIX: h.prefix }, logger: silent, pool: h.pool }, { sqlMode: SQL_MODE });
    h.statements.reset();
    const answers = await Promise.all(Array.from({ length: 50 }, () => api.fetch("http://test/ready")));
    for (let i = 0; i < 50; i++) answers.push(await api.fetch("http://test/ready"));
    expect(answers.every((r) => r.status === 200)).toBe(true);
    expect(h.statements.count).toBe(1);
    await new Promise((r) => setTimeout(r, READY_CACHE_MS));
    expect((await api.fetch("http://test/ready")).status).toBe(200);
    expect(h.statements.count).toBe(2);
  });

  test("/metrics is served only to a request presenting API_METRICS_KEY; without one (or with no key set) it is 404", async () => {
    expect((await h.api.fetch("http://test/metrics")).status).toBe(404);
    expect((await h.api.fetch("http://test/metrics", { headers: { "x-api-key": "wrong" } })).status).toBe(404);
    const bearer = await h.api.fetch("http://test/metrics", { headers: { authorization: `Bearer ${METRICS_KEY}` } });
    expect(bearer.status).toBe(200);
    expect(await bearer.text()).toMatch(/slotline_api_requests_total/);
    const open = createApi({ config: { QUEUE_PREFIX: h.prefix }, logger: silent, pool: h.pool }, { sqlMode: SQL_MODE });
    expect((await open.fetch("http://test/metrics")).status).toBe(404);
  });

  test("API_METRICS_PORT: /metrics on a port of its own, without a key; the API port does not serve it", async () => {
    const port = 40_000 + Math.floor(Math.random() * 20_000);
    const config = parseConfig({
      DATABASE_URL: h.url,
      REDIS_URL: inject("redisUrl"),
      QUEUE_PREFIX: h.prefix,
      API_METRICS_PORT: String(port),
      LOG_LEVEL: "silent",
    });
    const running = await startApi({ config, logger: silent }, { port: 0, host: "127.0.0.1", sqlMode: SQL_MODE });
    try {
      expect((await fetch(`${running.url}/metrics`)).status).toBe(404);
      const own = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(own.status).toBe(200);
      expect(await own.text()).toMatch(/slotline_api_requests_total/);
      expect((await fetch(`http://127.0.0.1:${port}/graphql`)).status).toBe(404);
    } finally {
      await running.close();
    }
  });

  test("/metrics: requests and latency per operation, errors by code, DataLoader batch sizes, the slow lane", async () => {
    await h.gql(`query Dashboard { pools(first: 5) { edges { node { tokenA { mint } } } } }`);
    await h.gql(`query Bad { tokens(first: 5000) { totalCount } }`);
    await h.gql(
      `{ pools { edges { node { swaps { edges { node { pool { tokenA { pools { edges { cursor } } } } } } } } } } }`,
    );
    const text = await (await h.api.fetch("http://test/metrics", { headers: { "x-api-key": METRICS_KEY } })).text();
    expect(text).toMatch(/slotline_api_requests_total\{operation="Dashboard",type="execute"\} 1/);
    expect(text).toMatch(/slotline_api_request_seconds_count\{operation="Dashboard"\} 1/);
    expect(text).toMatch(/slotline_api_errors_total\{code="FIRST_LIMIT"\} 1/);
    expect(text).toMatch(/slotline_api_errors_total\{code="DEPTH_LIMIT"\} 1/);
    expect(text).toMatch(/slotline_api_dataloader_batch_size_sum\{loader="token"\} 5/);
    // the slow lane's gauge reads the lane at scrape time: nothing slow ran, so nothing is held or waiting
    expect(text).toMatch(/slotline_api_slow_lane\{state="held"\} 0/);
    expect(text).toMatch(/slotline_api_slow_lane\{state="waiting"\} 0/);
  });

  test("G6: with Postgres unreachable the response is 'Unexpected error.' with a request id; details only in the log", async () => {
    const dead = createReadPool("postgres://postgres:postgres@127.0.0.1:1/none", { max: 1, mode: SQL_MODE });
    const logs: string[] = [];
    const logger = createLogger({ LOG_LEVEL: "info", LOG_FORMAT: "json" }, { write: (l: string) => logs.push(l) });
    const down = createApi({ config: { QUEUE_PREFIX: h.prefix }, logger, pool: dead }, { sqlMode: SQL_MODE });
    const r = await down.fetch("http://test/graphql", post(`{ tokens { totalCount } }`, { "x-request-id": "req-123" }));
    const text = await r.text();
    const body = JSON.parse(text);
    expect(body.errors[0].message).toBe("Unexpected error.");
    expect(body.errors[0].extensions).toMatchObject({ code: "INTERNAL_SERVER_ERROR", requestId: "req-123" });
    expect(r.headers.get("x-request-id")).toBe("req-123");
    expect(text).not.toMatch(/ECONN|SELECT|select|at .*\.ts|127\.0\.0\.1/);
    const line = logs.map((l) => JSON.parse(l)).find((l) => l.request_id === "req-123");
    expect(JSON.stringify(line)).toMatch(/ECONNREFUSED/);
    await dead.end();
  });

  test("a request's child logger is made only when it logs (none for an answered query)", async () => {
    const logs: string[] = [];
    const logger = createLogger({ LOG_LEVEL: "info", LOG_FORMAT: "json" }, { write: (l: string) => logs.push(l) });
    let children = 0;
    const child = logger.child.bind(logger);
    logger.child = ((...args: Parameters<typeof child>) => (children++, child(...args))) as typeof logger.child;
    const api = createApi(
      { config: { QUEUE_PREFIX: h.prefix }, logger, pool: h.pool },
      { rateLimit: false, slowQueryConcurrency: 0, sqlMode: SQL_MODE },
    );
    const stage = children; // createApi's own
    const r = await api.fetch("http://test/graphql", post(`{ tokens(first: 3) { edges { node { mint decimals } } } }`));
    expect((await r.json()).data.tokens.edges).toHaveLength(3);
    expect(children).toBe(stage);
    await api.dispose?.();
  });

  test("G5: a query over the statement timeout gets QUERY_TIMEOUT within timeout + 200 ms", async () => {
    const lock = await lockTokens(h.url);
    try {
      const started = performance.now();
      const r = await h.gql(`{ tokens(first: 1) { totalCount } }`);
      expect(performance.now() - started).toBeLessThan(300 + 200);
      expect(r.body.errors?.[0]?.extensions?.code).toBe("QUERY_TIMEOUT");
    } finally {
      await lock.release();
    }
  });

  test("G9: the API's sessions are read-only, and the schema has no Mutation type", async () => {
    const c = await h.pool.connect();
    try {
      expect((await c.query("show transaction_read_only")).rows[0].transaction_read_only).toBe("on");
      await expect(c.query("insert into cursors (id, kind) values ('x', 'live')")).rejects.toThrow(
        /read-only transaction/,
      );
    } finally {
      c.release();
    }
    expect(printSchema(schema)).not.toMatch(/type Mutation/);
  });

  test("G7: CORS follows the configured allowlist", async () => {
    const api = createApi(
      { config: { QUEUE_PREFIX: h.prefix, API_CORS_ORIGINS: ["https://dash.example"] }, logger: silent, pool: h.pool },
      { sqlMode: SQL_MODE },
    );
    const preflight = (origin: string) =>
      api.fetch("http://test/graphql", {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
      });
    expect((await preflight("https://dash.example")).headers.get("access-control-allow-origin")).toBe(
      "https://dash.example",
    );
    const evil = await preflight("https://evil.example");
    expect(evil.headers.get("access-control-allow-origin")).not.toBe("https://evil.example");
    expect(evil.headers.get("access-control-allow-origin")).not.toBe("*");
    const r = await api.fetch("http://test/graphql", post(`{ __typename }`, { origin: "https://evil.example" }));
    expect(r.headers.get("access-control-allow-origin")).not.toBe("https://evil.example");
  });

  test("API keys: without a valid key 401, with one 200 (x-api-key or Bearer)", async () => {
    const api = createApi(
      { config: { QUEUE_PREFIX: h.prefix, API_KEYS: ["k-one-1234", "k-two-5678"] }, logger: silent, pool: h.pool },
      { sqlMode: SQL_MODE },
    );
    const none = await api.fetch("http://test/graphql", post(`{ __typename }`));
    expect(none.status).toBe(401);
    expect(((await none.json()) as any).errors[0].extensions.code).toBe("UNAUTHENTICATED");
    expect((await api.fetch("http://test/graphql", post(`{ __typename }`, { "x-api-key": "wrong" }))).status).toBe(401);
    expect((await api.fetch("http://test/graphql", post(`{ __typename }`, { "x-api-key": "k-two-5678" }))).status).toBe(
      200,
    );
    expect(
      (await api.fetch("http://test/graphql", post(`{ __typename }`, { authorization: "Bearer k-one-1234" }))).status,
    ).toBe(200);
    expect((await api.fetch("http://test/health")).status).toBe(200);
  });

  test("G8: a client over its cost budget gets 429 with Retry-After; another client is unaffected", async () => {
    const api = createApi(
      { config: { QUEUE_PREFIX: h.prefix }, logger: silent, pool: h.pool },
      { trustProxy: true, rateLimit: { capacity: 100, windowMs: 60_000, minCost: 10 }, sqlMode: SQL_MODE },
    );
    // the proxy appends the address it saw; what the client wrote before it (a forged entry) is ignored
    const from = (ip: string, query = `{ __typename }`) =>
      api.fetch("http://test/graphql", post(query, { "x-forwarded-for": `10.9.9.${ip.length}, ${ip}` }));
    for (let i = 0; i < 10; i++) expect((await from("203.0.113.1")).status).toBe(200);
    const limited = await from("203.0.113.1");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await limited.json()) as any).errors[0].extensions.code).toBe("RATE_LIMITED");
    // out of budget, it is refused before its document is parsed: even a malformed one gets the 429, not a parse error
    const unparsed = await from("203.0.113.1", `{ not graphql (`);
    expect(unparsed.status).toBe(429);
    expect(((await unparsed.json()) as any).errors[0].extensions.code).toBe("RATE_LIMITED");
    expect((await from("198.51.100.7")).status).toBe(200);
    // costs are weighed: one query of cost 51 spends what five cheap ones do
    expect((await from("198.51.100.8", `{ tokens { edges { node { mint } } } }`)).status).toBe(200);
    expect((await from("198.51.100.8", `{ tokens { edges { node { mint } } } }`)).status).toBe(429);
    // refused for that dear query (49 units left, 51 owed), it is refused before parsing until it can afford it again,
    // though the cheapest request (10) would fit: repeating a refused request costs the API no parse
    const again = await from("198.51.100.8", `{ not graphql (`);
    expect(again.status).toBe(429);
    expect(((await again.json()) as any).errors[0].extensions.code).toBe("RATE_LIMITED");
  });

  test("G8: refused requests (unparsable, invalid, over a limit) are charged against the client's budget", async () => {
    const api = createApi(
      { config: { QUEUE_PREFIX: h.prefix }, logger: silent, pool: h.pool },
      { trustProxy: true, rateLimit: { capacity: 100, windowMs: 60_000, minCost: 10 }, sqlMode: SQL_MODE },
    );
    const from = (ip: string, query: string) =>
      api.fetch("http://test/graphql", post(query, { "x-forwarded-for": ip }));
    const refused = [`{ not graphql (`, `{ noSuchField }`, `{ pools(first: 5000) { edges { node { address } } } }`];
    // ten refusals of each kind, from three clients: each spends its whole budget (10 units a refusal)
    for (const [i, q] of refused.entries()) {
      const ip = `203.0.113.${20 + i}`;
      for (let n = 0; n < 10; n++) expect((await from(ip, q)).status).not.toBe(429);
      const next = await from(ip, `{ __typename }`);
      expect(next.status, q).toBe(429);
      expect(((await next.json()) as any).errors[0].extensions.code).toBe("RATE_LIMITED");
    }
    // a client that sent nothing refused is unaffected
    expect((await from("203.0.113.99", `{ __typename }`)).status).toBe(200);
  });

  test("G8: a one-off document runs on the standard executor; a repeated one is compiled on its second run, with the same answer", async () => {
    const compiled = async () => (await h.api.metrics.compiled.get()).values[0]?.value ?? 0;
    const counts = new Map<string, number>();
    for (const t of h.blocks.flatMap((b) => b.transactions.flatMap((x) => x.transfers)))
      counts.set(t.mint, (counts.get(t.mint) ?? 0) + 1);
    const mint = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
    // a document no other test sends (the comment), so no earlier run has counted towards it
    const doc = `{ token(mint: "${mint}") { mint decimals transfers(first: 3) { edges { node { amount blockTime } } } } } # jit`;
    const before = await compiled();
    const first = await h.gql(doc);
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data.token.transfers.edges).toHaveLength(3);
    expect(await compiled()).toBe(before);
    const second = await h.gql(doc);
    expect(await compiled()).toBe(before + 1);
    const third = await h.gql(doc);
    expect(await compiled()).toBe(before + 1);
    expect(second.body).toEqual(first.body);
    expect(third.body).toEqual(first.body);
    // 200 distinct documents (a client varying a comment to dodge the caches) compile nothing
    for (let i = 0; i < 200; i++) expect((await h.gql(`${doc} ${i}`)).body.data.token.mint).toBe(mint);
    expect(await compiled()).toBe(before + 1);
  });

  test("G5: a client that disconnects cancels its backend query (over real HTTP)", async () => {
    const config = parseConfig({
      DATABASE_URL: h.url,
      REDIS_URL: inject("redisUrl"),
      QUEUE_PREFIX: h.prefix,
      API_SQL_MODE: SQL_MODE,
      LOG_LEVEL: "silent",
    });
    const server = await startApi(
      { config, logger: silent },
      { port: 0, host: "127.0.0.1", statementTimeoutMs: 30_000 },
    );
    const lock = await lockTokens(h.url);
    const waiting = async () =>
      (
        await h.sql.query(
          `select count(*)::int n from pg_stat_activity where datname = current_database() and application_name = 'slotline-api' and state = 'active'`,
        )
      ).rows[0].n as number;
    try {
      const abort = new AbortController();
      const pending = fetch(`${server.url}/graphql`, {
        ...post(`{ tokens(first: 1) { totalCount } }`),
        signal: abort.signal,
      }).catch(() => null);
      for (let i = 0; i < 50 && (await waiting()) === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await waiting()).toBe(1);
      abort.abort();
      await pending;
      const deadline = performance.now() + 1_000;
      while ((await waiting()) > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(await waiting()).toBe(0);
    } finally {
      await lock.release();
      await server.close();
    }
  });
});
