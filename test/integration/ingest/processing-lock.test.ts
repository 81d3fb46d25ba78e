/**
 * The worker's processing lock: however many jobs a worker process runs at once, at most one of them is between
 * parsing its blocks and committing them (a store transaction is never left waiting behind another job's parse
 * while other workers wait on its row locks), and every job's blocks are still stored.
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { parseConfig } from "../../../core/config.js";
import type { Db } from "../../../core/db.js";
import { createDecoder } from "../../../indexer/decode/index.js";
import { createLogger } from "../../../core/logger.js";
import { createMetrics } from "../../../core/metrics.js";
import { PRESET_NAMES } from "../../../core/presets.js";
import { createBatchIndexer, createLock } from "../../../indexer/pipeline/worker.js";
import { createRpcClient } from "../../../indexer/source/rpc.js";
import { createStore, type Store } from "../../../indexer/store/index.js";
import type { Chain } from "../../../devchain/index.js";
import { type createTestDatabase, uniquePrefix } from "../../setup/services.js";
import { setUpWorkerEnv, type WorkerEnv } from "../../setup/worker-env.js";

/** `call` runs `fn`; `peak()` is the most calls that were in flight at once. */
function overlapCounter<A extends unknown[], R>(fn: (...args: A) => Promise<R>) {
  let open = 0;
  let most = 0;
  return {
    async call(...args: A): Promise<R> {
      most = Math.max(most, ++open);
      try {
        return await fn(...args);
      } finally {
        open--;
      }
    },
    peak: () => most,
  };
}

describe("worker processing lock", () => {
  let chain: Chain;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Db;
  let redis: Redis;
  let env: WorkerEnv;

  beforeAll(async () => void ({ chain, database, db, redis } = env = await setUpWorkerEnv({ dbMax: 8 })));
  afterAll(() => env.close());

  test("createLock hands the lock out one at a time, first come first served", async () => {
    const lock = createLock();
    const order: string[] = [];
    const job = async (name: string, ms: number) => {
      const release = await lock.acquire();
      order.push(`${name}+`);
      await new Promise((r) => setTimeout(r, ms));
      order.push(`${name}-`);
      release();
    };
    await Promise.all([job("a", 20), job("b", 1), job("c", 5)]);
    expect(order).toEqual(["a+", "a-", "b+", "b-", "c+", "c-"]);
  });

  test("jobs run at once fetch together but store one at a time, and every block is stored", async () => {
    const config = parseConfig({
      DATABASE_URL: database.url,
      REDIS_URL: inject("redisUrl"),
      QUEUE_PREFIX: uniquePrefix(),
      SOLANA_RPC_URL: chain.rpcUrl,
      LOG_LEVEL: "silent",
    });
    const rpc = createRpcClient({ url: chain.rpcUrl, maxRps: 1000, concurrency: 8, batchSize: 10, timeoutMs: 10_000 });
    const real = createStore({ db });
    // The real store and RPC client, counting how many of this process's writeBlocks and batch calls overlap.
    const writes = overlapCounter(real.writeBlocks.bind(real));
    const fetches = overlapCounter(rpc.batch.bind(rpc) as typeof rpc.batch);
    const store: Store = { ...real, writeBlocks: writes.call };
    const countingRpc: typeof rpc = { ...rpc, batch: fetches.call as typeof rpc.batch };
    const indexer = createBatchIndexer(
      { config, logger: createLogger(config), db },
      { rpc: countingRpc, decoder: createDecoder({ programs: PRESET_NAMES }), store, metrics: createMetrics(), redis },
    );
    try {
      const slots = chain.history.slots.slice(0, 8);
      const started = performance.now();
      await Promise.all(slots.map((s) => indexer.index({ slots: [s], commitment: "confirmed", origin: "test" })));
      expect(performance.now() - started).toBeLessThan(30_000);
      expect(fetches.peak()).toBeGreaterThan(1);
      expect(writes.peak()).toBe(1);
      const stored = await db.$client.query<{ n: number }>(
        "select count(*)::int as n from slots where slot = any($1::int8[]) and status = 'indexed'",
        [slots],
      );
      expect(stored.rows[0]!.n).toBe(slots.length);
    } finally {
      await indexer.close();
    }
  });
});
