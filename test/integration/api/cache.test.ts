/** Caching: HTTP headers for finalized immutable reads; the Redis response cache and its invalidation by events. */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { type Api, type EventHub, createApi, createEventHub } from "../../../api/server/index.js";
import { eventsChannel } from "../../../core/events.js";
import { createLogger } from "../../../core/logger.js";
import { type ApiHarness, SQL_MODE, setupApi } from "./harness.js";

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
    cached = createApi(
      {
        config: { QUEUE_PREFIX: h.prefix },
        logger: createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" }),
        pool: h.pool,
        redis,
        events,
      },
      // no slow lane, as in the harness: its clocked first runs would add statements to the counts compared here
      { rateLimit: false, responseCache: { ttlSeconds: 30 }, sqlMode: SQL_MODE, slowQueryConcurrency: 0 },
    );
    const r = await h.sql.query(
      `select t.signature, t.slot from transactions t where exists (select 1 from swaps s where s.signature = t.signature) order by slot, tx_index limit 1`,
    );
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
    const r = await api.fetch(`http://test/graphql?query=${encodeURIComponent(query)}`, {
      headers: { accept: "application/json" },
    });
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
      expect(
        (await get(h.api, `{ transaction(signature: "${tx.signature}") { swaps { pool { reserveA } } } }`))
          .cacheControl,
      ).toBe("no-cache");
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
    await redis.publish(
      eventsChannel(h.prefix),
      JSON.stringify({ type: "batch", slots: [1], swaps: [], transactions: [] }),
    );
    for (let i = 0; i < 50 && events.generation() === generation; i++) await new Promise((r) => setTimeout(r, 10));
    h.statements.reset();
    expect((await get(cached, q)).body.data.token.symbol).toBe("SOL");
    expect(h.statements.count).toBeGreaterThan(0);
    await h.sql.query(`update tokens set symbol = null where mint = 'So11111111111111111111111111111111111111112'`);
  });

  /** The response cache's outcome counts of `api` so far (slotline_api_response_cache_total). */
  const outcomes = async (api: Api): Promise<Record<string, number>> =>
    Object.fromEntries((await api.metrics.responseCache.get()).values.map((v) => [String(v.labels.outcome), v.value]));
  const delta = (before: Record<string, number>, after: Record<string, number>) =>
    Object.fromEntries(
      Object.keys(after).flatMap((k) => (after[k]! - (before[k] ?? 0) ? [[k, after[k]! - (before[k] ?? 0)]] : [])),
    );
  /** Publishes an indexer event and waits until the hub has seen it. */
  const publishEvent = async (slot: number) => {
    const generation = events.generation();
    await redis.publish(
      eventsChannel(h.prefix),
      JSON.stringify({ type: "batch", slots: [slot], swaps: [], transactions: [] }),
    );
    for (let i = 0; i < 100 && events.generation() === generation; i++) await new Promise((r) => setTimeout(r, 10));
    expect(events.generation()).not.toBe(generation);
  };
  const SOL = "So11111111111111111111111111111111111111112";

  test("a repeated query is answered from this process's memory: no SQL, no Redis", async () => {
    const q = `{ token(mint: "${SOL}") { mint decimals } sol: token(mint: "${SOL}") { supply } }`;
    await publishEvent(2);
    const before = await outcomes(cached);
    const first = await get(cached, q);
    await new Promise((r) => setTimeout(r, 20));
    // the shared copy is gone (another process would execute again); this one still answers without SQL
    const keys = await redis.keys(`${h.prefix}:api-cache:*`);
    if (keys.length) await redis.del(...keys);
    h.statements.reset();
    for (let i = 0; i < 3; i++) expect((await get(cached, q)).body).toEqual(first.body);
    expect(h.statements.count).toBe(0);
    expect(delta(before, await outcomes(cached))).toEqual({ miss: 1, memory: 3 });
  });

  test("identical queries that miss together run once; the others get that answer", async () => {
    const q = `{ pools(first: 3) { edges { node { address reserveA tokenA { symbol } } } } }`;
    await publishEvent(3);
    h.statements.reset();
    await get(h.api, q);
    const once = h.statements.count;
    expect(once).toBeGreaterThan(0);
    await publishEvent(4);
    const before = await outcomes(cached);
    h.statements.reset();
    const answers = await Promise.all(Array.from({ length: 8 }, () => get(cached, q)));
    for (const a of answers) expect(a.body).toEqual(answers[0]!.body);
    expect(answers[0]!.body.data.pools.edges).toHaveLength(3);
    expect(h.statements.count).toBe(once);
    // 8 requests, one execution: no previous answer of this query to serve stale, so the others waited for it
    expect(delta(before, await outcomes(cached))).toEqual({ miss: 1, shared: 7 });
  });

  test("after an event, the first request executes while the others get the previous answer (stale while revalidate), then the new one", async () => {
    const q = `{ token(mint: "${SOL}") { symbol } }`;
    await publishEvent(5);
    expect((await get(cached, q)).body.data.token.symbol).toBe(null);
    await h.sql.query(`update tokens set symbol = 'SOL' where mint = $1`, [SOL]);
    try {
      await publishEvent(6);
      const before = await outcomes(cached);
      // started together: the first executes (it reads the new symbol), the second is served the previous answer
      const [leader, other] = await Promise.all([get(cached, q), get(cached, q)]);
      expect(leader.body.data.token.symbol).toBe("SOL");
      expect(other.body.data.token.symbol).toBe(null);
      expect((await get(cached, q)).body.data.token.symbol).toBe("SOL");
      expect(delta(before, await outcomes(cached))).toEqual({ miss: 1, stale: 1, memory: 1 });

      // staleMs 0: never the previous answer; the second waits for the first's execution
      const strict = createApi(
        {
          config: { QUEUE_PREFIX: h.prefix },
          logger: createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" }),
          pool: h.pool,
          redis,
          events,
        },
        { rateLimit: false, responseCache: { ttlSeconds: 30, staleMs: 0 }, sqlMode: SQL_MODE },
      );
      expect((await get(strict, q)).body.data.token.symbol).toBe("SOL");
      await h.sql.query(`update tokens set symbol = 'wSOL' where mint = $1`, [SOL]);
      await publishEvent(7);
      const pair = await Promise.all([get(strict, q), get(strict, q)]);
      expect(pair.map((a) => a.body.data.token.symbol)).toEqual(["wSOL", "wSOL"]);
      // (its first answer came from Redis: the other API had filed it under the same generation)
      expect(delta({}, await outcomes(strict))).toEqual({ redis: 1, miss: 1, shared: 1 });

      // staleMs counts from the event's arrival: a page first asked for longer after it than that waits too
      const brief = createApi(
        {
          config: { QUEUE_PREFIX: h.prefix },
          logger: createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" }),
          pool: h.pool,
          redis,
          events,
        },
        { rateLimit: false, responseCache: { ttlSeconds: 30, staleMs: 100 }, sqlMode: SQL_MODE },
      );
      expect((await get(brief, q)).body.data.token.symbol).toBe("wSOL");
      await h.sql.query(`update tokens set symbol = 'SOL2' where mint = $1`, [SOL]);
      await publishEvent(8);
      await new Promise((r) => setTimeout(r, 200));
      const late = await Promise.all([get(brief, q), get(brief, q)]);
      expect(late.map((a) => a.body.data.token.symbol)).toEqual(["SOL2", "SOL2"]);
      expect(delta({}, await outcomes(brief))).toMatchObject({ miss: 1, shared: 1 });
      expect((await outcomes(brief)).stale).toBeUndefined();
    } finally {
      await h.sql.query(`update tokens set symbol = null where mint = $1`, [SOL]);
    }
  });

  test("guards still run on cached queries, and errors are never cached", async () => {
    const keys = async () => (await redis.keys(`${h.prefix}:api-cache:*`)).length;
    const before = await keys();
    for (let i = 0; i < 2; i++)
      expect((await get(cached, `{ tokens(first: 5000) { totalCount } }`)).body.errors[0].extensions.code).toBe(
        "FIRST_LIMIT",
      );
    const counts = await outcomes(cached);
    for (let i = 0; i < 2; i++)
      expect((await get(cached, `{ swaps(after: "bad") { totalCount } }`)).body.errors[0].extensions.code).toBe(
        "BAD_CURSOR",
      );
    // executed both times: the failed answer was kept neither in Redis nor in memory
    expect(delta(counts, await outcomes(cached))).toEqual({ miss: 2 });
    // sent together: the ones that waited for the first one's failed execution run their own
    const together = await Promise.all(
      Array.from({ length: 3 }, () => get(cached, `{ swaps(after: "bad") { totalCount } }`)),
    );
    for (const a of together) expect(a.body.errors[0].extensions.code).toBe("BAD_CURSOR");
    expect(delta(counts, await outcomes(cached))).toEqual({ miss: 5 });
    await new Promise((r) => setTimeout(r, 20));
    expect(await keys()).toBe(before);
  });

  const post = async (api: Api, query: string, variables: Record<string, unknown>) => {
    const r = await api.fetch("http://test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ query, variables }),
    });
    return (await r.json()) as any;
  };

  test("entries are keyed on coerced variables: a default given or omitted, or junk variables added, is one entry", async () => {
    const q = `query($n: Int = 2) { pools(first: $n) { edges { node { address } } } }`;
    await publishEvent(1006);
    const before = await outcomes(cached);
    const first = await post(cached, q, {});
    expect(first.data.pools.edges).toHaveLength(2);
    expect(await post(cached, q, { n: 2 })).toEqual(first);
    for (let i = 0; i < 3; i++) expect(await post(cached, q, { n: 2, [`junk${i}`]: "x".repeat(100) })).toEqual(first);
    expect(delta(before, await outcomes(cached))).toEqual({ miss: 1, memory: 4 });
    expect(await redis.keys(`${h.prefix}:api-cache:${events.generation()}:*`)).toHaveLength(1);
  });

  test("the bytes written to Redis per TTL are capped: past redisMaxBytes, answers stay in the process' memory", async () => {
    const small = createApi(
      {
        config: { QUEUE_PREFIX: h.prefix },
        logger: createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" }),
        pool: h.pool,
        redis,
        events,
      },
      {
        rateLimit: false,
        responseCache: { ttlSeconds: 30, redisMaxBytes: 600 },
        sqlMode: SQL_MODE,
        slowQueryConcurrency: 0,
      },
    );
    await publishEvent(1007);
    const q = `query($n: Int!) { pools(first: $n) { edges { node { address } } } }`;
    for (let n = 1; n <= 8; n++) expect((await post(small, q, { n })).data.pools.edges.length).toBeGreaterThan(0);
    const keys = await redis.keys(`${h.prefix}:api-cache:${events.generation()}:*`);
    let bytes = 0;
    for (const k of keys) bytes += await redis.strlen(k);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.length).toBeLessThan(8);
    expect(bytes).toBeLessThanOrEqual(600);
    // what did not go to Redis is still answered from memory
    const counts = await outcomes(small);
    await post(small, q, { n: 8 });
    expect(delta(counts, await outcomes(small))).toEqual({ memory: 1 });
  });
});
