/**
 * What the dashboard's browser tests run on: a database filled by the real store from the two whole mainnet blocks
 * (and a copy of both a day before, copyBlock, so a 1-day window differs from the whole history) and priced by the
 * pricing stage (one swap held back, to be stored while a page watches), the API as `slotline api`
 * starts it (startApi: HTTP, SSE, Redis events), a path-prefix proxy in front of it, and Chromium.
 */
import http from "node:http";
import { mkdirSync } from "node:fs";
import { Redis } from "ioredis";
import pg from "pg";
import { type Browser, type BrowserContext, chromium } from "playwright-core";
import { inject } from "vitest";
import { type RunningApi, startApi } from "../../api/server/index.js";
import { findWebRoot } from "../../api/server/web-plugin.js";
import { parseConfig } from "../../core/config.js";
import { eventsChannel, statusKey, workersKey } from "../../core/events.js";
import { createDb, type Db } from "../../core/db.js";
import { createLogger } from "../../core/logger.js";
import type { DecodedBlock } from "../../indexer/decode/index.js";
import { toEvent } from "../../indexer/pipeline/index.js";
import { createPricer } from "../../indexer/pricing/index.js";
import { type Store, createStore } from "../../indexer/store/index.js";
import { loadFixtureBlocks } from "../integration/api/harness.js";
import { copyBlock } from "../setup/copy-block.js";
import { createTestDatabase, uniquePrefix } from "../setup/services.js";

export const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"];
export const ARTIFACTS = new URL("./artifacts/", import.meta.url);

/** The swap held back: the newest swap of the pool with the most swaps, and the block it is stored with. */
export type HeldSwap = { pool: string; signature: string; block: DecodedBlock };

export type WebHarness = {
  sql: pg.Pool;
  writer: Db;
  /** a connection for BullMQ workers (which need maxRetriesPerRequest: null) */
  workerRedis: Redis;
  store: Store;
  redis: Redis;
  prefix: string;
  api: RunningApi;
  /** the API with API_KEYS=KEY and the default rate limit */
  keyed: RunningApi;
  /** the API mounted under /prefix/ by a proxy that strips it */
  proxied: string;
  held: HeldSwap;
  browser: Browser;
  context(): Promise<BrowserContext>;
  /** stores the held swap's transaction and publishes the event the worker publishes after a stored batch */
  storeHeld(): Promise<void>;
  close(): Promise<void>;
};

export const KEY = "browser-test-key-0123456789";
/** The copy of the blocks stored a day (5 x SHIFT_S) before them. */
const DAY_BEFORE = -5;

function holdBack(blocks: DecodedBlock[]): { rest: DecodedBlock[]; held: HeldSwap } {
  const counts = new Map<string, number>();
  for (const b of blocks)
    for (const t of b.transactions) for (const s of t.swaps) counts.set(s.pool, (counts.get(s.pool) ?? 0) + 1);
  const pool = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]![0];
  const last = blocks.at(-1)!;
  const tx = [...last.transactions].reverse().find((t) => t.swaps.some((s) => s.pool === pool))!;
  const rest = blocks.map((b) => (b === last ? { ...b, transactions: b.transactions.filter((t) => t !== tx) } : b));
  return { rest, held: { pool, signature: tx.transaction.signature, block: { ...last, transactions: [tx] } } };
}

/** Forwards /prefix/* to `target` with the prefix stripped (what a reverse proxy mounting the app does). */
function prefixProxy(target: string): Promise<{ url: string; server: http.Server }> {
  const t = new URL(target);
  const server = http.createServer((req, res) => {
    if (!req.url?.startsWith("/prefix/")) return void res.writeHead(404).end();
    const up = http.request(
      {
        host: t.hostname,
        port: t.port,
        path: req.url.slice("/prefix".length),
        method: req.method,
        headers: req.headers,
      },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on("error", () => res.writeHead(502).end());
    req.pipe(up);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}/prefix/`, server }),
    ),
  );
}

export async function setupWeb(): Promise<WebHarness> {
  if (!findWebRoot()) throw new Error("the dashboard is not built: npm run build:web");
  mkdirSync(ARTIFACTS, { recursive: true });
  const database = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
  const writer: Db = createDb(database.url, { max: 2 });
  const store = createStore({ db: writer });
  const blocks = loadFixtureBlocks();
  const { rest, held } = holdBack(blocks);
  // 25 h 50 min earlier: outside every 24 h window and the day's candles, inside a wallet's 7-day and whole-history PnL
  await store.writeBlocks(
    blocks.map((b) => copyBlock(b, DAY_BEFORE)),
    { commitment: "confirmed" },
  );
  await store.writeBlocks(rest, { commitment: "confirmed" });
  await createPricer({ db: writer, config: parseConfig({}) }).catchUp({ upTo: rest.at(-1)!.slot });
  const prefix = uniquePrefix();
  const redis = new Redis(inject("redisUrl"));
  const workerRedis = new Redis(inject("redisUrl"), { maxRetriesPerRequest: null });
  const logger = createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" });
  const base = { DATABASE_URL: database.url, REDIS_URL: inject("redisUrl"), QUEUE_PREFIX: prefix };
  const api = await startApi(
    { config: parseConfig({ ...base, API_RATE_LIMIT: "0" }), logger },
    { port: 0, host: "127.0.0.1" },
  );
  const keyed = await startApi(
    { config: parseConfig({ ...base, API_KEYS: KEY }), logger },
    { port: 0, host: "127.0.0.1" },
  );
  const proxy = await prefixProxy(api.url);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const contexts: BrowserContext[] = [];
  return {
    sql: writer.$client,
    writer,
    workerRedis,
    store,
    redis,
    prefix,
    api,
    keyed,
    proxied: proxy.url,
    held,
    browser,
    async context() {
      // a zone far from the machine's: times must show in the viewer's
      const c = await browser.newContext({
        timezoneId: "Asia/Tokyo",
        locale: "en-US",
        viewport: { width: 1400, height: 1000 },
      });
      contexts.push(c);
      return c;
    },
    async storeHeld() {
      await store.writeBlocks([held.block], { commitment: "confirmed" });
      await redis.publish(eventsChannel(prefix), JSON.stringify(toEvent([held.block], [])));
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => {});
      await browser.close().catch(() => {});
      proxy.server.close();
      await api.close();
      await keyed.close();
      await redis.del(statusKey(prefix), workersKey(prefix));
      redis.disconnect();
      workerRedis.disconnect();
      await writer.$client.end();
      await database.drop();
    },
  };
}
