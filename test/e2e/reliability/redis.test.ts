import { Redis } from "ioredis";
import { afterEach, describe, expect, inject, test } from "vitest";
import { RedisConfigError, RedisUnavailableError } from "../../../core/errors.js";
import { checkEvictionPolicy } from "../../../cli/runtime.js";
import { BLOCK_JOB_OPTIONS, BLOCK_QUEUE, createBlockQueue, liveJobId } from "../../../indexer/queue/index.js";
import { createChain } from "../../../devchain/index.js";
import { query } from "../../setup/ingest-env.js";
import { freePort, type PrivateRedis, startPrivateRedis } from "../../setup/private-services.js";
import { spawnSlotline, waitFor } from "../../setup/processes.js";
import { createTestDatabase, uniquePrefix } from "../../setup/services.js";
import { expectConverged, produce, type Run, setUpRun } from "./converge.js";

// Reliability bar D5 (Redis lost, or down at start-up) and D6 (Redis memory bounded), against a private
// redis-server per test that the test stops, flushes and restarts; the shared 6379 is never touched.
// Short checks run in `npm test`; the runs that spawn the daemon around an outage (D5a, whose convergence waits
// for the 15 s reconcile, D5c) and the D6 volume run need a minute or more: they run when SLOTLINE_LONG_TESTS=1
// (`npm run test:reliability`).
const LONG = process.env.SLOTLINE_LONG_TESTS === "1";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function privateRedis(opts: Parameters<typeof startPrivateRedis>[0] = {}): Promise<PrivateRedis> {
  const r = await startPrivateRedis(opts);
  cleanups.push(() => r.destroy());
  return r;
}

async function run(opts: Parameters<typeof setUpRun>[0]): Promise<Run> {
  const r = await setUpRun(opts);
  cleanups.push(() => r.cleanup());
  return r;
}

const storedSlots = async (dbUrl: string) =>
  (await query<{ n: number }>(dbUrl, "select count(*)::int as n from slots where status = 'indexed'"))[0]!.n;
const anySlots = async (dbUrl: string) =>
  (await query<{ n: number }>(dbUrl, "select count(*)::int as n from slots"))[0]!.n;

async function readyStatus(port: number): Promise<number | null> {
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), 3_000);
  try {
    return (await fetch(`http://127.0.0.1:${port}/ready`, { signal: ctl.signal })).status;
  } catch {
    return null;
  } finally {
    clearTimeout(t);
  }
}

describe("D6: Redis memory stays bounded", () => {
  test("the daemon refuses to start against a Redis whose maxmemory-policy is not noeviction", async () => {
    const redis = await privateRedis({ maxmemoryPolicy: "allkeys-lru" });
    const db = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    cleanups.push(() => db.drop());
    const p = spawnSlotline(["start"], {
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: uniquePrefix(),
      SOLANA_RPC_URL: "http://127.0.0.1:9",
    });
    cleanups.push(() => p.kill());
    const code = await Promise.race([p.exited, new Promise((r) => setTimeout(() => r("still running"), 30_000))]);
    expect(code, p.output()).toBe(1);
    expect(p.output()).toMatch(/maxmemory-policy is allkeys-lru.*requires noeviction/);
    // The same server switched to noeviction passes the check (a started daemon is the D5 tests' business).
    const conn = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    cleanups.push(async () => conn.disconnect());
    expect(await checkEvictionPolicy(conn)).toBeInstanceOf(RedisConfigError);
    await redis.command("CONFIG", "SET", "maxmemory-policy", "noeviction");
    expect(await checkEvictionPolicy(conn)).toBe(null);
  }, 60_000);

  test.skipIf(!LONG)(
    "after thousands of jobs: completed set empty, failed set capped, payloads are references, used_memory bounded",
    async () => {
      const redis = await privateRedis();
      const chain = await createChain({ port: 0, autoProduce: false, syntheticTps: 0, slotMs: 400, finalityLag: 4 });
      cleanups.push(() => chain.close());
      const db = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
      cleanups.push(() => db.drop());
      const prefix = uniquePrefix();
      const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
      cleanups.push(async () => conn.disconnect());
      const queue = createBlockQueue(conn, prefix);
      cleanups.push(() => queue.close());
      const memory = async () => Number(/used_memory:(\d+)/.exec(String(await redis.command("INFO", "memory")))![1]);
      await queue.queue.waitUntilReady();
      const baseline = await memory();

      // Empty slots (no synthetic load): the worker's cost is the queue round trip and one small transaction.
      const first = chain.slot("processed") + 1;
      for (let i = 0; i < 3_000; i++) chain.tick();
      const slots = Array.from({ length: chain.slot("confirmed") - first + 1 }, (_, i) => first + i);
      await queue.enqueue(
        slots.map((s) => ({ id: liveJobId(s), data: { slots: [s], commitment: "confirmed", origin: "live" } })),
      );
      // Every job payload in Redis, measured before the workers take them.
      const sizes = (await conn.eval(
        `local m = 0 local n = 0 for _, k in ipairs(redis.call('keys', ARGV[1])) do if redis.call('type', k).ok == 'hash' then local d = redis.call('hget', k, 'data') if d then n = n + 1 if #d > m then m = #d end end end end return {m, n}`,
        0,
        `${prefix}:${BLOCK_QUEUE}:slot-*`,
      )) as [number, number];
      expect(sizes[1]).toBe(slots.length);
      expect(sizes[0]).toBeLessThanOrEqual(2048);
      const peakQueued = await memory();

      const worker = spawnSlotline(["worker", "--concurrency", "32"], {
        DATABASE_URL: db.url,
        REDIS_URL: redis.url,
        QUEUE_PREFIX: prefix,
        SOLANA_RPC_URL: chain.rpcUrl,
        RPC_MAX_RPS: "100000",
      });
      cleanups.push(() => worker.kill());
      // As many as one worker gets through in a minute on this machine (all 2,999 when it is not shared).
      await waitFor("the queue to drain", async () => (await queue.depth()) === 0, 60_000, 500).catch(() => {});
      const done = await anySlots(db.url);
      const counts = await queue.queue.getJobCounts("completed", "failed", "waiting", "active");
      const completedSet = Number(await redis.command("ZCARD", `${prefix}:${BLOCK_QUEUE}:completed`));
      const failedSet = Number(await redis.command("ZCARD", `${prefix}:${BLOCK_QUEUE}:failed`));
      const after = await memory();
      process.stdout.write(
        `D6: ${slots.length} jobs enqueued, ${done} stored by one worker; largest payload ${sizes[0]} B; used_memory baseline ${baseline}, ` +
          `with all queued ${peakQueued}, after ${after}; completed set ${completedSet}, failed set ${failedSet}\n`,
      );
      expect(done).toBeGreaterThanOrEqual(500);
      expect(worker.child.exitCode, worker.output()).toBe(null);
      // removeOnComplete: true keeps no completed job; removeOnFail caps the failed set.
      expect(BLOCK_JOB_OPTIONS.removeOnComplete).toBe(true);
      expect(completedSet).toBe(0);
      expect(counts.completed).toBe(0);
      expect(failedSet).toBeLessThanOrEqual((BLOCK_JOB_OPTIONS.removeOnFail as { count: number }).count);
      // Processed jobs leave nothing behind: memory goes back near the baseline (the bar allows 100 MB), but for
      // BullMQ's events stream, which is trimmed to about 10,000 entries (its default maxLen) and so stays bounded
      // whatever the number of jobs; a worker that gets through every job fills it to that cap.
      const eventsKey = `${prefix}:${BLOCK_QUEUE}:events`;
      const events = Number(await redis.command("XLEN", eventsKey));
      const eventsBytes = Number((await redis.command("MEMORY", "USAGE", eventsKey)) ?? 0);
      expect(events).toBeLessThanOrEqual(11_000);
      expect(after - baseline).toBeLessThan(100 * 1024 * 1024);
      expect(after - baseline - eventsBytes).toBeLessThan(
        (peakQueued - baseline) * ((slots.length - done) / slots.length) + 2 * 1024 * 1024,
      );
      expect(await worker.kill("SIGTERM")).toBe(0);
    },
    150_000,
  );
});

describe("D5: Redis lost, or down at start-up", () => {
  test("the producer fails fast while Redis is down (no offline buffering) and works again when it returns", async () => {
    const redis = await privateRedis();
    await redis.stop();
    const conn = new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 200 });
    conn.on("error", () => {});
    cleanups.push(async () => conn.disconnect());
    const queue = createBlockQueue(conn, uniquePrefix());
    const job = { id: liveJobId(1), data: { slots: [1], commitment: "confirmed" as const, origin: "test" } };
    // Rejected, not parked: a promise that never settles would lose this race.
    const outcome = await Promise.race([
      queue.enqueue([job]).then(
        () => "added",
        (e: unknown) => e,
      ),
      new Promise((r) => setTimeout(() => r("pending"), 2_000)),
    ]);
    expect(outcome).toBeInstanceOf(RedisUnavailableError);
    await expect(queue.depth()).rejects.toBeInstanceOf(RedisUnavailableError);
    await redis.start();
    await waitFor("the producer to reconnect", async () => conn.status === "ready", 10_000, 100);
    await queue.enqueue([job]);
    expect(await queue.depth()).toBe(1);
    // Down again after a first connect: still fails fast.
    await redis.stop();
    await waitFor("the producer to see it", async () => conn.status !== "ready", 10_000, 50);
    expect(
      await queue.enqueue([job]).then(
        () => "added",
        (e: unknown) => e,
      ),
    ).toBeInstanceOf(RedisUnavailableError);
    await queue.queue.close().catch(() => {});
  }, 30_000);

  test("jobs survive a restart of a Redis with AOF", async () => {
    const redis = await privateRedis({ appendonly: true });
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    cleanups.push(async () => conn.disconnect());
    const prefix = uniquePrefix();
    const queue = createBlockQueue(conn, prefix);
    const slots = Array.from({ length: 1_000 }, (_, i) => 500_000_000 + i);
    await queue.enqueue(
      slots.map((s) => ({ id: liveJobId(s), data: { slots: [s], commitment: "confirmed", origin: "live" } })),
    );
    expect(await queue.depth()).toBe(1_000);
    await redis.stop(); // SHUTDOWN NOSAVE: only the append-only file keeps the data
    await redis.start();
    await waitFor("the client to reconnect", async () => conn.status === "ready", 10_000, 100);
    expect(await queue.depth()).toBe(1_000);
    const job = await queue.queue.getJob(liveJobId(slots[777]!));
    expect(job?.data).toEqual({ slots: [slots[777]], commitment: "confirmed", origin: "live" });
    expect(job?.opts.attempts).toBe(BLOCK_JOB_OPTIONS.attempts);
    await queue.close();
  }, 30_000);

  test.skipIf(!LONG)(
    "started while Redis is down: alive and not ready, works within 10 s of Redis returning, and after a second outage",
    async () => {
      const redis = await privateRedis();
      await redis.stop();
      const port = await freePort();
      const r = await run({ redisUrl: redis.url, extra: { METRICS_PORT: String(port) } });
      const p = spawnSlotline(["start"], { ...r.env, API_PORT: String(await freePort()), LOG_LEVEL: "info" });
      r.procs.push(p);
      // Slots keep coming during the outage.
      let producing = true;
      const producer = (async () => {
        while (producing) await produce(r.chain, 1, 300);
      })();
      cleanups.push(async () => ((producing = false), await producer));

      await waitFor("the ops endpoint", async () => (await readyStatus(port)) !== null, 30_000);
      const statuses: (number | null)[] = [];
      for (let i = 0; i < 8; i++) {
        statuses.push(await readyStatus(port));
        await new Promise((res) => setTimeout(res, 1_000));
      }
      expect(p.child.exitCode, p.output()).toBe(null);
      expect(
        statuses.every((s) => s === 503),
        JSON.stringify(statuses),
      ).toBe(true);
      expect(await storedSlots(r.db.url)).toBe(0);

      await redis.start();
      const back = Date.now();
      await waitFor("slots stored after Redis returned", async () => (await storedSlots(r.db.url)) > 0, 10_000, 200);
      const firstWork = Date.now() - back;
      await waitFor("ready", async () => (await readyStatus(port)) === 200, 10_000);

      // A second outage while running: ingest backs off, the worker reconnects and keeps consuming.
      await redis.stop();
      await new Promise((res) => setTimeout(res, 4_000));
      expect(p.child.exitCode, p.output()).toBe(null);
      expect(await readyStatus(port)).toBe(503);
      const before = await storedSlots(r.db.url);
      await redis.start();
      const back2 = Date.now();
      await waitFor(
        "more slots stored after the second outage",
        async () => (await storedSlots(r.db.url)) > before,
        10_000,
        200,
      );
      const secondWork = Date.now() - back2;
      process.stdout.write(
        `D5c: first slot stored ${firstWork} ms after Redis came up; ${secondWork} ms after the second outage\n`,
      );
      producing = false;
      await producer;
      await expectConverged(r);
    },
    120_000,
  );

  test.skipIf(!LONG)(
    "Redis shut down without saving and restarted empty mid-run: pending slots re-enqueued from Postgres, same database",
    async () => {
      const redis = await privateRedis();
      const r = await run({ redisUrl: redis.url });
      const ingest = spawnSlotline(["ingest"], r.env);
      const worker = () => spawnSlotline(["worker"], r.env);
      r.procs.push(ingest, worker());
      await produce(r.chain, 10, 150);
      await waitFor("the worker to store slots", async () => (await storedSlots(r.db.url)) > 0, 30_000);
      // Workers stopped: the next slots' jobs wait in Redis, their slots `pending` in Postgres.
      expect(await r.procs[1]!.kill("SIGTERM")).toBe(0);
      await produce(r.chain, 10, 150);
      const waitKey = `${r.env.QUEUE_PREFIX}:${BLOCK_QUEUE}:wait`;
      await waitFor("jobs waiting in Redis", async () => Number(await redis.command("LLEN", waitKey)) >= 5, 15_000);
      const pending = (
        await query<{ slot: string }>(r.db.url, "select slot::text from slots where status = 'pending'")
      ).map((x) => Number(x.slot));
      expect(pending.length).toBeGreaterThanOrEqual(5);
      await redis.stop();
      await redis.start();
      expect(Number(await redis.command("LLEN", waitKey))).toBe(0);
      r.procs[1] = worker();
      await produce(r.chain, 10, 150);
      const { indexed } = await expectConverged(r, { timeoutMs: 60_000 });
      // Every slot whose job was lost with Redis is stored.
      expect(pending.filter((s) => !indexed.includes(s))).toEqual([]);
    },
    150_000,
  );
});
