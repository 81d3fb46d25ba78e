/**
 * A4 (malformed answers fail closed), the dead-letter end of A2 (-32004 forever), and the RPC client's error
 * classes and batch halving (A1, A5): the real worker and RPC client against the local chain's scripted faults.
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { parseConfig } from "../../../core/config.js";
import type { Db } from "../../../core/db.js";
import { createDecoder } from "../../../indexer/decode/index.js";
import { createLogger } from "../../../core/logger.js";
import { createMetrics } from "../../../core/metrics.js";
import { listDeadLetters } from "../../../cli/commands/dead-letters.js";
import { createBlockQueue, INDEX_BLOCKS } from "../../../indexer/queue/index.js";
import { createBlockWorker } from "../../../indexer/pipeline/worker.js";
import { PRESET_NAMES } from "../../../core/presets.js";
import { fetchBlocks } from "../../../indexer/source/blocks.js";
import { createRpcClient, RpcFatalError } from "../../../indexer/source/rpc.js";
import { createStore } from "../../../indexer/store/index.js";
import type { Chain, FaultSpec } from "../../../devchain/index.js";
import type { FaultAction } from "../../../devchain/faults.js";
import { waitFor } from "../../setup/processes.js";
import { type createTestDatabase, uniquePrefix } from "../../setup/services.js";
import { setUpWorkerEnv, type WorkerEnv } from "../../setup/worker-env.js";

describe("RPC faults through the worker and the client", () => {
  let chain: Chain;
  let spec: FaultSpec;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Db;
  let redis: Redis;
  let env: WorkerEnv;

  beforeAll(async () => void ({ chain, spec, database, db, redis } = env = await setUpWorkerEnv()));
  afterAll(() => env.close());

  test("A4: each malformation on its own slot is retried, dead-lettered with a clear error, never committed; -32015 fails once and is not skipped; every getBlock asks for version 0", async () => {
    const prefix = uniquePrefix();
    const slots = chain.history.slots.slice(0, 8);
    const cases: [FaultAction, RegExp, number][] = [
      [{ kind: "mutate", what: "metaNull" }, /transaction 0 has no meta/, 2],
      [{ kind: "mutate", what: "noBlockhash" }, /blockhash missing/, 2],
      [{ kind: "mutate", what: "noParentSlot" }, /parentSlot missing/, 2],
      [{ kind: "mutate", what: "numbersAsStrings" }, /parentSlot is not a number/, 2],
      [{ kind: "truncate" }, /gave up after 2 attempts \(network/, 2],
      [{ kind: "html502" }, /gave up after 2 attempts \(http_502: HTTP 502: <html>/, 2],
      [
        {
          kind: "error",
          code: -32015,
          message:
            'Transaction version (0) is not supported by the requesting client. Please try the request again with the following configuration parameter: "maxSupportedTransactionVersion": 0',
        },
        /getBlock: -32015/,
        1,
      ],
      // A2's end: "not available" forever is retried to the last attempt and dead-lettered, never recorded skipped.
      [{ kind: "error", code: -32004, message: "Block not available for slot" }, /-32004 Block not available/, 2],
    ];
    cases.forEach(([action], i) => spec.rules.push({ method: "getBlock", slot: slots[i]!, action }));
    const config = parseConfig({
      DATABASE_URL: database.url,
      REDIS_URL: inject("redisUrl"),
      QUEUE_PREFIX: prefix,
      SOLANA_RPC_URL: chain.rpcUrl,
      LOG_LEVEL: "silent",
    });
    // Two quick attempts at each level instead of the production 8 (client) and 10 (queue) with backoff.
    const rpc = createRpcClient({
      url: chain.rpcUrl,
      maxRps: 1000,
      concurrency: 4,
      batchSize: 10,
      timeoutMs: 5_000,
      maxAttempts: 2,
    });
    const store = createStore({ db });
    // The live resume point over these slots: it must stay below the first of them.
    await store.initLiveCursor(slots[0]! - 1);
    await store.markPending(slots);
    const queue = createBlockQueue(redis, prefix);
    const worker = createBlockWorker(
      { config, logger: createLogger(config), db },
      {
        rpc,
        decoder: createDecoder({ programs: PRESET_NAMES }),
        store,
        metrics: createMetrics(),
        redis,
        concurrency: 4,
      },
    );
    try {
      for (const s of slots)
        await queue.queue.add(
          INDEX_BLOCKS,
          { slots: [s], commitment: "confirmed", origin: "test" },
          { jobId: `slot-${s}`, attempts: 2, backoff: { type: "fixed", delay: 50 } },
        );
      await waitFor(
        "every job to be dead-lettered",
        async () => (await listDeadLetters({ db })).length === slots.length,
        30_000,
      );
      const dead = new Map((await listDeadLetters({ db })).map((d) => [d.jobId, d]));
      cases.forEach(([action, error, attempts], i) => {
        const d = dead.get(`slot-${slots[i]}`);
        expect
          .soft({ action, error: d?.error, attempts: d?.attempts })
          .toMatchObject({ action, error: expect.stringMatching(error), attempts });
      });
      const committed = await db.$client.query(
        "select slot::text, status from slots where slot = any($1::int8[]) and status <> 'pending'",
        [slots],
      );
      expect(committed.rows).toEqual([]);
      const txs = await db.$client.query("select count(*)::int as n from transactions where slot = any($1::int8[])", [
        slots,
      ]);
      expect(txs.rows[0].n).toBe(0);
      expect(await store.advanceLiveCursor(slots.at(-1)!)).toBe(slots[0]! - 1);
      // -32015 is a configuration error: the client reports it for /health.
      expect(rpc.failure()).toMatchObject({ method: "getBlock", code: -32015 });
      const getBlocks = spec.log!.entries.filter((e) => e.method === "getBlock");
      expect(getBlocks.length).toBeGreaterThan(slots.length);
      for (const e of getBlocks)
        expect(
          (e.params as [number, { maxSupportedTransactionVersion?: number }])[1].maxSupportedTransactionVersion,
        ).toBe(0);
    } finally {
      spec.rules.length = 0;
      await worker.close();
      await queue.queue.obliterate({ force: true });
      await queue.close();
    }
  }, 60_000);

  test.each([
    ["HTTP 404", { kind: "status", status: 404 }, "http_404", true],
    ["HTTP 405", { kind: "status", status: 405 }, "http_405", true],
    ["HTTP 501", { kind: "status", status: 501 }, "http_501", true],
    ["-32601", { kind: "error", code: -32601, message: "Method not found" }, -32601, false],
    ["-32602", { kind: "error", code: -32602, message: "Invalid params" }, -32602, false],
  ] as [string, FaultAction, number | string, boolean][])(
    "A1: %s fails fast: one request, RpcFatalError, failure() set, no retry",
    async (_name, action, code, endpointDead) => {
      spec.log!.entries.length = 0;
      spec.rules.push({ method: "getSlot", action });
      try {
        const rpc = createRpcClient({
          url: chain.rpcUrl,
          maxRps: 1000,
          concurrency: 4,
          batchSize: 10,
          timeoutMs: 5_000,
        });
        const err = await rpc.call("getSlot").catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RpcFatalError);
        expect(err).toMatchObject({ method: "getSlot", code });
        expect(rpc.failure()).toMatchObject({ method: "getSlot", code });
        // Once more: a missing method or endpoint gets no second request; bad params are sent again (other params may
        // do).
        await expect(rpc.call("getSlot")).rejects.toBeInstanceOf(RpcFatalError);
        expect(spec.log!.entries.filter((e) => e.method === "getSlot")).toHaveLength(code === -32602 ? 2 : 1);
        // An endpoint that is gone refuses every method; a missing method leaves the others working.
        const other = await rpc.call("getFirstAvailableBlock").then(
          () => "ok",
          (e: unknown) => (e as Error).name,
        );
        expect(other).toBe(endpointDead ? "RpcFatalError" : "ok");
        expect(rpc.stats().retries).toBe(0);
      } finally {
        spec.rules.length = 0;
      }
    },
  );

  test("A5: a batch whose answer times out is retried as two halves, down to the one slow block, and every block arrives", async () => {
    spec.log!.entries.length = 0;
    const slots = chain.history.slots.slice(0, 8);
    spec.rules.push({ method: "getBlock", slot: slots[5]!, times: 4, action: { kind: "delay", ms: 1_500 } });
    try {
      const rpc = createRpcClient({ url: chain.rpcUrl, maxRps: 1000, concurrency: 4, batchSize: 8, timeoutMs: 500 });
      const fetched = await fetchBlocks(rpc, slots, "confirmed");
      expect(fetched.blocks.map((b) => b.slot)).toEqual(slots);
      // Batch sizes as the chain saw them: 8, halves (4 and 4), 2 and 2, 1 and 1; the slow one alone times out once
      // more and is retried.
      const byArrival = [...spec.log!.entries].sort((a, b) => a.request - b.request);
      const sizes = [...new Map(byArrival.map((e) => [e.request, e.batch])).values()];
      expect(sizes.slice(0, 3)).toEqual([8, 4, 4]);
      expect(sizes).toContain(2);
      expect(sizes).toContain(1);
      expect(rpc.stats().splits).toBeGreaterThanOrEqual(3);
      expect(rpc.stats().retries).toBeGreaterThanOrEqual(1);
    } finally {
      spec.rules.length = 0;
    }
  });
});
