/** Caching: HTTP headers for finalized immutable reads; the Redis response cache and its invalidation by events. */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { type EventHub, createEventHub, eventsChannel } from "../../../api/events.js";
import { type Api, createApi } from "../../../api/yoga.js";
import { createLogger } from "../../../indexer/logger.js";
import { type ApiHarness, setupApi } from "./harness.js";

describe("api caching", () => {
  let h: ApiHarness;
  let redis: Redis;
  let events: EventHub;
  let cached: Api;
  let tx: { signature: string; slot: number };

  beforeAll(async () => {
    redis = new Redis(inject("redisUrl"));
    h = await setupApi();
    events = createEventHub(redis.duplicate(), h.prefix, createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" }));
    await events.ready;
    cached = createApi({ config: { QUEUE_PREFIX: h.prefix }, logger: createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" }), pool: h.pool, redis, events }, { rateLimit: false, responseCache: { ttlSeconds: 30 } });
    const r = await h.sql.query(`select t.signature, t.slot from transactions t where exists (select 1 from swaps s where s.signature = t.signature) order by slot, tx_index limit 1`);
    tx = { signature: r.rows[0].signature, slot: Number(r.rows[0].slot) };
  });
  afterAll(async () => {
    await events.close();
    const keys = await redis.keys(`${h.prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await h.close();
  });

  const get = async (api: Api, query: string) => {
    const r = await api.fetch(`http://test/graphql?query=${encodeURIComponent(query)}`, { headers: { accept: "application/json" } });
    return { cacheControl: r.headers.get("cache-control"), body: (await r.json()) as any };
  };

  test("a transaction read is cacheable forever once its slot is finalized, not before", async () => {
    const q = `{ transaction(signature: "${tx.signature}") { signature slot fee swaps { amountIn amountInUi transaction { success } } transfers { amount } } }`;
    const before = await get(h.api, q);
    expect(before.body.data.transaction.signature).toBe(tx.signature);
    expect(before.cacheControl).toBe("no-cache");
    await h.sql.query(`update slots set commitment = 'finalized' where slot = $1`, [tx.slot]);
    try {
      expect((await get(h.api, q)).cacheControl).toBe("public, max-age=31536000, immutable");
      // mutable parts (pool reserves, token metadata), unknown signatures and lists are never cached
      expect((await get(h.api, `{ transaction(signature: "${tx.signature}") { swaps { pool { reserveA } } } }`)).cacheControl).toBe("no-cache");
      expect((await get(h.api, `{ transaction(signature: "nope") { slot } }`)).cacheControl).toBe("no-cache");
      expect((await get(h.api, `{ swaps(first: 1) { totalCount } }`)).cacheControl).toBe("no-cache");
    } finally {
      await h.sql.query(`update slots set commitment = 'confirmed' where slot = $1`, [tx.slot]);
    }
  });

  test("the Redis response cache answers a repeated query without SQL, until the next indexer event", async () => {
    const q = `{ token(mint: "So11111111111111111111111111111111111111112") { symbol decimals } }`;
    h.statements.reset();
    const first = await get(cached, q);
    expect(first.body.data.token).toEqual({ symbol: null, decimals: 9 });
    expect(h.statements.count).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 20)); // the SET is fire-and-forget
    h.statements.reset();
    expect((await get(cached, q)).body).toEqual(first.body);
    expect(h.statements.count).toBe(0);
    // the indexer stores a batch (here: a metadata change) and publishes its event: the cached answer is gone
    await h.sql.query(`update tokens set symbol = 'SOL' where mint = 'So11111111111111111111111111111111111111112'`);
    const generation = events.generation();
    await redis.publish(eventsChannel(h.prefix), JSON.stringify({ type: "batch", slots: [1], swaps: [], transactions: [] }));
    for (let i = 0; i < 50 && events.generation() === generation; i++) await new Promise((r) => setTimeout(r, 10));
    h.statements.reset();
    expect((await get(cached, q)).body.data.token.symbol).toBe("SOL");
    expect(h.statements.count).toBeGreaterThan(0);
    await h.sql.query(`update tokens set symbol = null where mint = 'So11111111111111111111111111111111111111112'`);
  });

  test("guards still run on cached queries, and errors are never cached", async () => {
    const keys = async () => (await redis.keys(`${h.prefix}:api-cache:*`)).length;
    const before = await keys();
    for (let i = 0; i < 2; i++) expect((await get(cached, `{ tokens(first: 5000) { totalCount } }`)).body.errors[0].extensions.code).toBe("FIRST_LIMIT");
    expect((await get(cached, `{ swaps(after: "bad") { totalCount } }`)).body.errors[0].extensions.code).toBe("BAD_CURSOR");
    await new Promise((r) => setTimeout(r, 20));
    expect(await keys()).toBe(before);
  });
});
