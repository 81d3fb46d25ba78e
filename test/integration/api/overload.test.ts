/** Bounds against a flood: the read pool's wait queue and the API's open connections answer OVERLOADED past them. */
import net from "node:net";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { createApi, startApi } from "../../../api/server/index.js";
import { HEADERS_TIMEOUT_MS } from "../../../api/server/main.js";
import { createReadPool } from "../../../api/sql/index.js";
import { parseConfig } from "../../../core/config.js";
import { createLogger } from "../../../core/logger.js";
import { type ApiHarness, SQL_MODE, setupApi } from "./harness.js";

const silent = createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" });
const code = (e: unknown) => (e as { extensions?: { code?: string } }).extensions?.code;

describe("api overload bounds", () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await setupApi({ fill: false });
  });
  afterAll(async () => {
    await h.close();
  });

  test("the read pool's wait queue is bounded: past maxWaiting a checkout (and a request) fails at once with OVERLOADED", async () => {
    const pool = createReadPool(h.url, { max: 1, maxWaiting: 2, mode: SQL_MODE });
    try {
      const held = await pool.connect();
      const waiters = [pool.connect(), pool.connect()];
      expect(pool.waitingCount).toBe(2);
      expect(code(await pool.connect().catch((e) => e))).toBe("OVERLOADED");
      expect(code(await pool.query("select 1").catch((e) => e))).toBe("OVERLOADED");
      const api = createApi({ config: { QUEUE_PREFIX: h.prefix }, logger: silent, pool }, { sqlMode: SQL_MODE });
      const r = await api.fetch("http://test/graphql", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ tokens(first: 1) { edges { node { mint } } } }" }),
      });
      expect(((await r.json()) as any).errors[0].extensions.code).toBe("OVERLOADED");
      // the ones already waiting are served as connections free
      held.release();
      for (const w of waiters) (await w).release();
      expect((await pool.query("select 1 as n")).rows).toEqual([{ n: 1 }]);
    } finally {
      await pool.end();
    }
  });

  test("past API_MAX_CONNECTIONS a new connection is answered 503 OVERLOADED and closed; a freed place serves again", async () => {
    const config = parseConfig({
      DATABASE_URL: h.url,
      REDIS_URL: inject("redisUrl"),
      QUEUE_PREFIX: h.prefix,
      API_SQL_MODE: SQL_MODE,
      API_MAX_CONNECTIONS: "2",
      LOG_LEVEL: "silent",
    });
    const api = await startApi({ config, logger: silent }, { port: 0, host: "127.0.0.1" });
    const { port } = new URL(api.url);
    const idle: net.Socket[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const s = net.connect(Number(port), "127.0.0.1");
        await new Promise((r) => s.once("connect", r));
        idle.push(s);
      }
      await new Promise((r) => setTimeout(r, 50));
      const refused = await fetch(`${api.url}/health`);
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as any).errors[0].extensions.code).toBe("OVERLOADED");
      idle.pop()!.destroy();
      await new Promise((r) => setTimeout(r, 50));
      expect((await fetch(`${api.url}/health`, { headers: { connection: "close" } })).status).toBe(200);
    } finally {
      for (const s of idle) s.destroy();
      await api.close();
    }
  });

  test("a client that trickles its headers (slowloris) loses its socket after HEADERS_TIMEOUT_MS", async () => {
    const config = parseConfig({
      DATABASE_URL: h.url,
      REDIS_URL: inject("redisUrl"),
      QUEUE_PREFIX: h.prefix,
      API_SQL_MODE: SQL_MODE,
      LOG_LEVEL: "silent",
    });
    const api = await startApi({ config, logger: silent }, { port: 0, host: "127.0.0.1" });
    try {
      const s = net.connect(Number(new URL(api.url).port), "127.0.0.1");
      await new Promise((r) => s.once("connect", r));
      const opened = performance.now();
      s.write("GET /health HTTP/1.1\r\nhost: x\r\n");
      const trickle = setInterval(() => s.write("x-slow: 1\r\n"), 1_000);
      let answer = "";
      s.on("data", (d) => (answer += String(d)));
      await new Promise((r) => s.once("close", r));
      clearInterval(trickle);
      const held = performance.now() - opened;
      expect(held).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 500);
      expect(held).toBeLessThan(HEADERS_TIMEOUT_MS + 3_000);
      expect(answer).toMatch(/^HTTP\/1.1 408/);
    } finally {
      await api.close();
    }
  }, 20_000);
});
