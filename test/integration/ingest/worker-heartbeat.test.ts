/**
 * Workers report themselves: a real block worker writes its heartbeat (state and counters) to the workers hash, the
 * API's `indexerStatus.workers` reads it, a finished job is counted, and a closed worker leaves the hash.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { parseConfig } from "../../../core/config.js";
import { type WorkerHeartbeat, workersKey } from "../../../core/events.js";
import { createLogger } from "../../../core/logger.js";
import { createMetrics } from "../../../core/metrics.js";
import { PRESET_NAMES } from "../../../core/presets.js";
import { createDecoder } from "../../../indexer/decode/index.js";
import { createBlockWorker } from "../../../indexer/pipeline/index.js";
import { INDEX_BLOCKS, createBlockQueue } from "../../../indexer/queue/index.js";
import { createRpcClient } from "../../../indexer/source/index.js";
import { createStore } from "../../../indexer/store/index.js";
import { type ApiHarness, setupApi } from "../api/harness.js";

const waitFor = async (what: string, ok: () => Promise<boolean>, ms = 15_000) => {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe("worker heartbeat", () => {
  let h: ApiHarness;
  let redis: Redis;
  beforeAll(async () => {
    redis = new Redis(inject("redisUrl"), { maxRetriesPerRequest: null });
    h = await setupApi({ fill: false, context: { redis } });
  });
  afterAll(async () => {
    await redis.del(workersKey(h.prefix));
    redis.disconnect();
    await h.close();
  });

  test("reported while it runs, a finished job counted, gone once closed", { timeout: 30_000 }, async () => {
    const config = parseConfig({ DATABASE_URL: h.url, REDIS_URL: inject("redisUrl"), QUEUE_PREFIX: h.prefix });
    const logger = createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" });
    const rpc = createRpcClient({
      url: "http://127.0.0.1:9",
      maxRps: 100,
      concurrency: 1,
      batchSize: 1,
      timeoutMs: 500,
    });
    const queue = createBlockQueue(redis, h.prefix);
    const worker = createBlockWorker(
      { config, logger, db: h.writer },
      {
        rpc,
        decoder: createDecoder({ programs: PRESET_NAMES }),
        store: createStore({ db: h.writer }),
        metrics: createMetrics(),
        redis,
        concurrency: 2,
      },
    );
    const q = `{ indexerStatus { workers { id state active concurrency completed failed } } }`;
    try {
      await waitFor("the first report", async () => (await redis.hlen(workersKey(h.prefix))) === 1);
      const [first] = (await h.gql(q)).body.data.indexerStatus.workers;
      expect(first).toMatchObject({ state: "idle", active: 0, concurrency: 2, completed: 0, failed: 0 });
      expect(first.id).toMatch(/^.+:\d+:[0-9a-f]{4}$/);

      // a job with no slot is done at once (nothing to fetch)
      await queue.queue.add(
        INDEX_BLOCKS,
        { slots: [], commitment: "confirmed", origin: "test" },
        { jobId: "slots-none", attempts: 1 },
      );
      await waitFor("the job to be reported", async () => {
        const v = Object.values(await redis.hgetall(workersKey(h.prefix)))[0];
        return v !== undefined && (JSON.parse(v) as WorkerHeartbeat).completed === 1;
      });
      const [after] = (await h.gql(q)).body.data.indexerStatus.workers;
      expect(after).toMatchObject({ id: first.id, state: "idle", active: 0, failed: 0, completed: 1 });
    } finally {
      await worker.close();
      await queue.close();
    }
    await waitFor("the entry to go", async () => (await redis.hlen(workersKey(h.prefix))) === 0, 2_000);
    expect((await h.gql(q)).body.data.indexerStatus.workers).toEqual([]);
  });

  test("a worker that stopped reporting shows as silent, a malformed entry is skipped", async () => {
    const key = workersKey(h.prefix);
    await redis.del(key);
    const now = Date.now();
    const beat = (id: string, updatedAt: number): WorkerHeartbeat => ({
      id,
      state: "busy",
      active: 1,
      completed: 5,
      failed: 0,
      concurrency: 4,
      startedAt: now - 60_000,
      updatedAt,
    });
    await redis.hset(key, {
      a: JSON.stringify(beat("host:1:aaaa", now)),
      b: JSON.stringify(beat("host:2:bbbb", now - 60_000)),
      c: JSON.stringify(beat("host:3:cccc", now - 3_600_000)),
      d: "{not json",
      e: JSON.stringify({ id: "host:4:dddd", updatedAt: now }),
    });
    const r = await h.gql(`{ indexerStatus { workers { id state } } }`);
    expect(r.body.data.indexerStatus.workers).toEqual([
      { id: "host:1:aaaa", state: "busy" },
      { id: "host:2:bbbb", state: "silent" },
    ]);
  });
});
