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

// Reliability bar D7, the variant with a job longer than the shutdown grace: SIGTERM must still end the process
// at the grace (BullMQ's worker.close() has no timeout of its own), and the unfinished job is recovered by another
// worker through the stalled mechanism once its lock expires.

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

describe("D7: shutdown with a job longer than the grace", () => {
  test.skipIf(process.env.SLOTLINE_LONG_TESTS !== "1")(
    "a 60 s job and a 3 s grace: the process exits at the grace; the job is redone by another worker; same digest",
    async () => {
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
        SHUTDOWN_GRACE_MS: "3000",
        LOG_LEVEL: "info",
      };

      const slow = spawnSlotline(["worker"], { ...env, SLOTLINE_FAILPOINTS: "job.beforeCommit:sleep(60000)" });
      cleanups.push(() => slow.kill());
      const slots = chain.history.slots.slice(0, 2);
      await queue.enqueue(
        slots.map((s) => ({ id: liveJobId(s), data: { slots: [s], commitment: "confirmed", origin: "live" } })),
      );
      await waitFor(
        "the slow worker to hold both jobs",
        async () => ((await queue.queue.getJobCounts("active")).active ?? 0) === 2,
        30_000,
        50,
      );
      const t0 = Date.now();
      slow.child.kill("SIGTERM");
      const code = await slow.exited;
      const exitedAfter = Date.now() - t0;
      // It gave up on the job at the grace (3 s; the job had ~60 s to go), and said so.
      expect(exitedAfter, slow.output()).toBeLessThan(15_000);
      expect(slow.output()).toMatch(/shutdown callback exceeded 3000 ms/);
      expect(code, slow.output()).toBe(0);
      expect((await query<{ n: number }>(db.url, "select count(*)::int as n from slots"))[0]!.n).toBe(0);

      const port = await freePort();
      const next = spawnSlotline(["worker"], { ...env, METRICS_PORT: String(port) });
      cleanups.push(() => next.kill());
      await waitFor(
        "the next worker to store both slots",
        async () =>
          (await query<{ n: number }>(db.url, "select count(*)::int as n from slots where status = 'indexed'"))[0]!
            .n === 2,
        30_000,
        200,
      );
      expect(await metric(port, "slotline_jobs_stalled_total")).toBe(2);
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
      expect(await next.kill("SIGTERM")).toBe(0);
      process.stdout.write(
        `D7: exited ${exitedAfter} ms after SIGTERM (grace 3000 ms) with 2 jobs of 60 s in flight\n`,
      );
    },
    90_000,
  );
});
