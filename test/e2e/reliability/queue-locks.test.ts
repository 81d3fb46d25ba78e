import { Redis } from "ioredis";
import { afterEach, describe, expect, inject, test } from "vitest";
import { createBlockQueue, liveJobId } from "../../../indexer/queue/index.js";
import { createChain } from "../../../devchain/index.js";
import { digestTables } from "../../setup/digest.js";
import { query } from "../../setup/ingest-env.js";
import { freePort } from "../../setup/private-services.js";
import { spawnSlotline, waitFor } from "../../setup/processes.js";
import { writeReference } from "../../setup/reference.js";
import { createTestDatabase, uniquePrefix } from "../../setup/services.js";
import { metric } from "./converge.js";

// Reliability bar D2: a worker that stops renewing its locks for longer than lockDuration loses its jobs to
// another worker while it still runs them. The test freezes worker A's whole process with SIGSTOP (what a
// busy loop or a long GC pause does to the event loop, without a test hook in the processor), lets worker B's
// stalled check take the jobs over, then resumes A: both have run the same slots, and the database must not care.

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

describe("D2: forced lock loss", () => {
  test("a worker frozen past lockDuration: jobs stalled to the other worker, double processing leaves one row per key, Missing lock caught", async () => {
    const chain = await createChain({ port: 0, once: true });
    cleanups.push(() => chain.close());
    const db = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    cleanups.push(() => db.drop());
    const prefix = uniquePrefix();
    const conn = new Redis(inject("redisUrl"), { maxRetriesPerRequest: null });
    cleanups.push(async () => conn.disconnect());
    const queue = createBlockQueue(conn, prefix);
    cleanups.push(async () => (await queue.queue.obliterate({ force: true }), await queue.close()));

    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: inject("redisUrl"),
      QUEUE_PREFIX: prefix,
      SOLANA_RPC_URL: chain.rpcUrl,
      RPC_MAX_RPS: "100000",
      WORKER_LOCK_MS: "2000",
    };
    const portB = await freePort();
    // A holds each job 1.5 s before fetching, so it has jobs in hand when it is frozen.
    const a = spawnSlotline(["worker", "--concurrency", "4"], {
      ...env,
      SLOTLINE_FAILPOINTS: "job.beforeCommit:sleep(1500)",
    });
    cleanups.push(() => a.kill());
    const slots = chain.history.slots.slice(0, 8);
    await queue.enqueue(
      slots.map((s) => ({ id: liveJobId(s), data: { slots: [s], commitment: "confirmed", origin: "live" } })),
    );
    await waitFor(
      "A to hold jobs",
      async () => ((await queue.queue.getJobCounts("active")).active ?? 0) >= 2,
      30_000,
      20,
    );
    const heldByA = (await queue.queue.getJobs(["active"])).map((j) => j.id!);
    a.child.kill("SIGSTOP");
    const b = spawnSlotline(["worker", "--concurrency", "4"], { ...env, METRICS_PORT: String(portB) });
    cleanups.push(() => b.kill());
    // B's stalled check finds A's expired locks and takes the jobs; everything gets stored.
    await waitFor(
      "B to store every slot",
      async () =>
        (await query<{ n: number }>(db.url, "select count(*)::int as n from slots where status = 'indexed'"))[0]!.n ===
        slots.length,
      40_000,
      200,
    );
    const stalled = await metric(portB, "slotline_jobs_stalled_total");
    expect(stalled).toBeGreaterThanOrEqual(1);
    a.child.kill("SIGCONT");
    // A finishes what it held (writing the same slots again), then cannot complete them: its lock is gone
    // ("Missing lock", or "Missing key" once B has completed and removed the job). A worker error, not a crash.
    await waitFor(
      "A's completion to be refused",
      async () => /Missing (lock|key) for job [^"]*moveToFinished/.test(a.output()),
      20_000,
      200,
    );
    await new Promise((r) => setTimeout(r, 2_000));
    expect(a.child.exitCode, a.output()).toBe(null);
    expect(b.child.exitCode, b.output()).toBe(null);
    expect(await queue.depth()).toBe(0);

    // One row per natural key, and the same rows as a plain single run over the same slots.
    const dup = await query<{ n: number }>(
      db.url,
      "select count(*)::int as n from (select signature from transactions group by signature having count(*) > 1) d",
    );
    expect(dup[0]!.n).toBe(0);
    const ref = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    cleanups.push(() => ref.drop());
    await writeReference(chain.rpcUrl, ref.url, slots, "confirmed");
    const expected = await digestTables(ref.url);
    await waitFor(
      "the digest to match (token lookups may trail)",
      async () => JSON.stringify(await digestTables(db.url)) === JSON.stringify(expected),
      15_000,
    ).catch(() => {});
    expect(await digestTables(db.url)).toEqual(expected);
    process.stdout.write(
      `D2: A held ${heldByA.length} jobs when frozen; B counted ${stalled} stalled; A's completions refused for ${new Set(a.output().match(/(?<=Missing (lock|key) for job )[^ .]+(?=\. moveToFinished)/g)).size} jobs\n`,
    );
    expect(await a.kill("SIGTERM")).toBe(0);
    expect(await b.kill("SIGTERM")).toBe(0);
  }, 120_000);
});
