import http from "node:http";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { parseConfig } from "../../../core/config.js";
import type { Db } from "../../../core/db.js";
import { createDecoder } from "../../../indexer/decode/index.js";
import { createLogger } from "../../../core/logger.js";
import { createMetrics } from "../../../core/metrics.js";
import { listDeadLetters, retryDeadLetters } from "../../../cli/commands/dead-letters.js";
import { createBlockQueue, INDEX_BLOCKS } from "../../../indexer/queue/index.js";
import { createBlockWorker } from "../../../indexer/pipeline/worker.js";
import { PRESET_NAMES } from "../../../core/presets.js";
import { createRpcClient } from "../../../indexer/source/rpc.js";
import { createStore } from "../../../indexer/store/index.js";
import type { Chain } from "../../../devchain/index.js";
import { daemonHealth, stuckReason } from "../../../cli/ops-server.js";
import { waitFor } from "../../setup/processes.js";
import { type createTestDatabase, uniquePrefix } from "../../setup/services.js";
import { setUpWorkerEnv, type WorkerEnv } from "../../setup/worker-env.js";

// A proxy in front of the local chain that strips `meta` from every getBlock answer while `corrupt` is on:
// a malformed RPC response, which must be retried, then dead-lettered, never silently dropped.
function corruptingProxy(target: string) {
  const state = { corrupt: true };
  const server = http.createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const upstream = await fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body });
    let text = await upstream.text();
    if (state.corrupt && body.includes('"getBlock"')) {
      const parsed = JSON.parse(text);
      for (const a of Array.isArray(parsed) ? parsed : [parsed])
        for (const tx of a.result?.transactions ?? []) tx.meta = null;
      text = JSON.stringify(parsed);
    }
    res.writeHead(upstream.status, { "content-type": "application/json" }).end(text);
  });
  return { server, state };
}

describe("dead letters", () => {
  let chain: Chain;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Db;
  let redis: Redis;
  let proxy: ReturnType<typeof corruptingProxy>;
  let proxyUrl: string;
  const prefix = uniquePrefix();
  let env: WorkerEnv;

  beforeAll(async () => {
    ({ chain, database, db, redis } = env = await setUpWorkerEnv({ dbMax: 2 }));
    proxy = corruptingProxy(chain.rpcUrl);
    await new Promise<void>((r) => proxy.server.listen(0, "127.0.0.1", r));
    proxyUrl = `http://127.0.0.1:${(proxy.server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    proxy.server.close();
    await env.close();
  });

  test("a malformed getBlock answer is retried, dead-lettered with its payload, and replayed by retry", async () => {
    const config = parseConfig({
      DATABASE_URL: database.url,
      REDIS_URL: inject("redisUrl"),
      QUEUE_PREFIX: prefix,
      SOLANA_RPC_URL: proxyUrl,
      LOG_LEVEL: "silent",
    });
    const logger = createLogger(config);
    const rpc = createRpcClient({ url: proxyUrl, maxRps: 1000, concurrency: 4, batchSize: 10, timeoutMs: 10_000 });
    const store = createStore({ db });
    const metrics = createMetrics();
    const queue = createBlockQueue(redis, prefix);
    const worker = createBlockWorker(
      { config, logger, db },
      {
        rpc,
        decoder: createDecoder({ programs: PRESET_NAMES }),
        store,
        metrics,
        redis,
        concurrency: 1,
      },
    );
    const slot = chain.history.slots.at(-1)!;
    try {
      // Two quick attempts instead of the production ten with backoff.
      await queue.queue.add(
        INDEX_BLOCKS,
        { slots: [slot], commitment: "confirmed", origin: "test" },
        { jobId: `slot-${slot}`, attempts: 2, backoff: { type: "fixed", delay: 50 } },
      );
      await waitFor("the job to be dead-lettered", async () => (await listDeadLetters({ db })).length === 1, 15_000);
      const [dl] = await listDeadLetters({ db });
      expect(dl).toMatchObject({
        queue: "blocks",
        jobId: `slot-${slot}`,
        attempts: 2,
        payload: { slots: [slot], commitment: "confirmed" },
      });
      expect(dl!.error).toMatch(/meta/);
      expect(await metrics.registry.getSingleMetricAsString("slotline_dead_letters_total")).toMatch(
        /slotline_dead_letters_total\{queue="blocks"\} 1/,
      );
      // Live ingest had the slot pending above its resume point: health fails with the cause, readiness says why.
      await db.$client.query("insert into slots (slot, status) values ($1, 'pending')", [slot]);
      const health = await daemonHealth({ rpc, store, queue }, { resumeSlot: slot - 1 });
      expect(health).toMatchObject({
        status: "failed",
        stuckSlot: slot,
        stuck: { slot, attempts: 2, deadLettered: true, error: expect.stringMatching(/meta/) },
      });
      expect(stuckReason(health)).toMatch(new RegExp(`stuck below slot ${slot}: its job was dead-lettered .*meta`));
      await db.$client.query("delete from slots where slot = $1", [slot]);
      // Nothing of the slot was written: no partial block.
      const before = await db.$client.query("select count(*)::int as n from slots where slot = $1", [slot]);
      expect(before.rows[0].n).toBe(0);

      // The RPC is healthy again: retry replays the payload and the block lands.
      proxy.state.corrupt = false;
      expect(await retryDeadLetters({ db }, queue)).toBe(1);
      await waitFor(
        "the replayed block to be stored",
        async () =>
          (await db.$client.query("select 1 from slots where slot = $1 and status = 'indexed'", [slot])).rowCount === 1,
        15_000,
      );
      expect(await listDeadLetters({ db })).toEqual([]);
      expect(await retryDeadLetters({ db }, queue)).toBe(0);
    } finally {
      await worker.close();
      await queue.queue.obliterate({ force: true });
      await queue.close();
    }
  }, 60_000);
});
