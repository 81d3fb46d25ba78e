import http from "node:http";
import { QueueEvents, type Job, type Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { parseConfig } from "../../../core/config.js";
import { createDb, type Db } from "../../../core/db.js";
import { createDecoder } from "../../../indexer/decode/index.js";
import { createLogger } from "../../../core/logger.js";
import { createMetrics } from "../../../core/metrics.js";
import { PRESET_NAMES } from "../../../core/presets.js";
import {
  BLOCK_JOB_OPTIONS,
  BLOCK_QUEUE,
  type BlockJob,
  type BlockQueue,
  createBlockQueue,
  liveJobId,
} from "../../../indexer/queue/index.js";
import { createBlockWorker } from "../../../indexer/pipeline/worker.js";
import { createRpcClient } from "../../../indexer/source/rpc.js";
import { createStore } from "../../../indexer/store/index.js";
import { type Chain, createChain } from "../../../devchain/index.js";
import { digestTables } from "../../setup/digest.js";
import { waitFor } from "../../setup/processes.js";
import { createTestDatabase, uniquePrefix } from "../../setup/services.js";

// Reliability bar D4 (jobId deduplication and removal) and D3 (a) (transient failures retried with exponential
// backoff), with the real worker and queue on the real Redis, against the local chain's recorded blocks.
// The deterministic-failure half of D3 is test/integration/ingest/dead-letters.test.ts.

/** A proxy in front of the chain: scripted answers per getBlock slot, and the time of every getBlock call. */
function scriptedProxy(target: string) {
  const script = new Map<number, ("-32004" | "503")[]>();
  const calls: { slot: number; t: number }[] = [];
  const server = http.createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const parsed = JSON.parse(body) as
      | { method: string; params: unknown[]; id: unknown }
      | { method: string; params: unknown[]; id: unknown }[];
    const list = Array.isArray(parsed) ? parsed : [parsed];
    const blockSlots = list.filter((c) => c.method === "getBlock").map((c) => Number(c.params[0]));
    for (const s of blockSlots) calls.push({ slot: s, t: Date.now() });
    // An HTTP-level fault answers the whole request; a JSON-RPC error answers its call.
    const faults = blockSlots.map((s) => [s, script.get(s)?.shift()] as const);
    if (faults.some(([, f]) => f === "503"))
      return void res.writeHead(503, { "content-type": "text/plain" }).end("unavailable");
    const upstream = await fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body });
    let text = await upstream.text();
    const notYet = new Set(faults.filter(([, f]) => f === "-32004").map(([s]) => s));
    if (notYet.size) {
      const answers = JSON.parse(text) as { id: unknown }[] | { id: unknown };
      const rewrite = (a: { id: unknown }) => {
        const call = list.find((c) => c.id === a.id)!;
        return call.method === "getBlock" && notYet.has(Number(call.params[0]))
          ? {
              jsonrpc: "2.0",
              id: a.id,
              error: { code: -32004, message: `Block not available for slot ${call.params[0]}` },
            }
          : a;
      };
      text = JSON.stringify(Array.isArray(answers) ? answers.map(rewrite) : rewrite(answers));
    }
    res.writeHead(upstream.status, { "content-type": "application/json" }).end(text);
  });
  return { server, script, calls };
}

describe("queue semantics on the real worker", () => {
  let chain: Chain;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Db;
  let proxy: ReturnType<typeof scriptedProxy>;
  let proxyUrl: string;
  const conns: Redis[] = [];
  const prefix = uniquePrefix();
  let events: QueueEvents;
  let worker: Worker<BlockJob>;
  let queue: BlockQueue;
  const seen = { duplicated: [] as string[], completed: [] as string[], failed: [] as string[] };
  const finished: Job<BlockJob>[] = [];
  const attemptsFailed: string[] = [];
  const redis = () => {
    const c = new Redis(inject("redisUrl"), { maxRetriesPerRequest: null });
    conns.push(c);
    return c;
  };

  beforeAll(async () => {
    chain = await createChain({ port: 0, once: true });
    proxy = scriptedProxy(chain.rpcUrl);
    await new Promise<void>((r) => proxy.server.listen(0, "127.0.0.1", r));
    proxyUrl = `http://127.0.0.1:${(proxy.server.address() as { port: number }).port}`;
    database = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    db = createDb(database.url, { max: 4 });
    queue = createBlockQueue(redis(), prefix);
    events = new QueueEvents(BLOCK_QUEUE, { connection: redis().duplicate(), prefix });
    await events.waitUntilReady();
    events.on("duplicated", ({ jobId }) => void seen.duplicated.push(jobId));
    events.on("completed", ({ jobId }) => void seen.completed.push(jobId));
    events.on("failed", ({ jobId }) => void seen.failed.push(jobId));
  });
  afterAll(async () => {
    await worker?.close();
    await events.close();
    await queue.queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    for (const c of conns) c.disconnect();
    await db.$client.end();
    await database.drop();
    proxy.server.close();
    await chain.close();
  });

  function startWorker() {
    const config = parseConfig({
      DATABASE_URL: database.url,
      REDIS_URL: inject("redisUrl"),
      QUEUE_PREFIX: prefix,
      SOLANA_RPC_URL: proxyUrl,
      LOG_LEVEL: "silent",
    });
    const rpc = createRpcClient({ url: proxyUrl, maxRps: 10_000, concurrency: 4, batchSize: 10, timeoutMs: 10_000 });
    worker = createBlockWorker(
      { config, logger: createLogger(config), db },
      {
        rpc,
        decoder: createDecoder({ programs: PRESET_NAMES }),
        store: createStore({ db }),
        metrics: createMetrics(),
        redis: redis(),
        concurrency: 2,
      },
    );
    worker.on("completed", (job) => void finished.push(job));
    worker.on("failed", (job) => void (job && attemptsFailed.push(job.id!)));
  }

  const job = (slot: number, origin: string) => ({
    id: liveJobId(slot),
    data: { slots: [slot], commitment: "confirmed" as const, origin },
  });

  test("D4: a slot added by two sources while its job exists is one job (duplicated); after removal a re-add runs again, same digest", async () => {
    const slot = chain.history.slots[0]!;
    const sweep = createBlockQueue(redis(), prefix);
    try {
      await queue.enqueue([job(slot, "live")]);
      await sweep.enqueue([job(slot, "reconcile")]);
      await waitFor("the duplicated event", async () => seen.duplicated.length === 1, 5_000, 50);
      expect(seen.duplicated).toEqual([liveJobId(slot)]);
      expect(await queue.depth()).toBe(1);
      // The first add wins: its payload is the job's.
      expect((await queue.queue.getJob(liveJobId(slot)))?.data.origin).toBe("live");

      startWorker();
      await waitFor(
        "the job to complete",
        async () => seen.completed.filter((j) => j === liveJobId(slot)).length === 1,
        15_000,
        50,
      );
      const first = await digestTables(database.url);
      expect(first.slots?.rows).toBe(1);
      // removeOnComplete: the job is gone, so its id no longer deduplicates.
      await waitFor(
        "the job to be removed",
        async () => (await queue.queue.getJob(liveJobId(slot))) === undefined,
        5_000,
        50,
      );
      await sweep.enqueue([job(slot, "reconcile")]);
      await waitFor(
        "the re-added job to complete",
        async () => seen.completed.filter((j) => j === liveJobId(slot)).length === 2,
        15_000,
        50,
      );
      expect(seen.duplicated).toHaveLength(1);
      expect(finished.filter((j) => j.id === liveJobId(slot)).map((j) => j.data.origin)).toEqual(["live", "reconcile"]);
      expect(await digestTables(database.url)).toEqual(first);
    } finally {
      await sweep.close();
    }
  }, 40_000);

  test("D3 (a): -32004 twice succeeds on attempt 3 after the exponential backoff; HTTP 503 twice is absorbed by the RPC client", async () => {
    if (!worker) startWorker();
    const [, s1, s2] = chain.history.slots as [number, number, number];
    proxy.script.set(s1, ["-32004", "-32004"]);
    proxy.script.set(s2, ["503", "503"]);
    await queue.enqueue([job(s1, "live"), job(s2, "live")]);
    await waitFor(
      "both jobs to complete",
      async () => seen.completed.includes(liveJobId(s1)) && seen.completed.includes(liveJobId(s2)),
      20_000,
      50,
    );

    const j1 = finished.find((j) => j.id === liveJobId(s1))!;
    const j2 = finished.find((j) => j.id === liveJobId(s2))!;
    expect(j1.attemptsStarted).toBe(3);
    expect(attemptsFailed.filter((id) => id === liveJobId(s1))).toHaveLength(2);
    const t1 = proxy.calls.filter((c) => c.slot === s1).map((c) => c.t);
    expect(t1).toHaveLength(3);
    // BullMQ exponential backoff: delay * 2^(attempt - 1), i.e. 500 ms then 1000 ms.
    const base = (BLOCK_JOB_OPTIONS.backoff as { delay: number }).delay;
    expect(t1[1]! - t1[0]!).toBeGreaterThanOrEqual(base);
    expect(t1[2]! - t1[1]!).toBeGreaterThanOrEqual(base * 2);
    // 503s are retried inside the RPC client (its own jittered backoff): one job attempt, three HTTP requests.
    expect(j2.attemptsStarted).toBe(1);
    expect(attemptsFailed).not.toContain(liveJobId(s2));
    expect(proxy.calls.filter((c) => c.slot === s2)).toHaveLength(3);
    const stored = await db.$client.query(
      "select slot::text from slots where slot = any($1::int8[]) and status = 'indexed' order by slot",
      [[s1, s2]],
    );
    expect(stored.rows.map((r) => Number(r.slot))).toEqual([s1, s2].sort((a, b) => a - b));
    process.stdout.write(`D3a: -32004 attempts at +0, +${t1[1]! - t1[0]!} ms, +${t1[2]! - t1[0]!} ms\n`);
  }, 40_000);
});
