/**
 * B3: every slot notification sent twice and all notifications shuffled within windows of 3 slots: the database
 * equals the reference, the resume point (sampled every 100 ms) never moves back and never passes a pending slot,
 * and each slot gets at most one live job.
 */
import { QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import { afterEach, describe, expect, inject, test } from "vitest";
import { BLOCK_QUEUE } from "../../../indexer/queue/index.js";
import { waitFor } from "../../setup/processes.js";
import { expectConverged, produce, type RpcRun, setUpRpcRun, startSlotline } from "./rpc-harness.js";

let run: RpcRun | undefined;
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c().catch(() => {});
  await run?.cleanup();
  run = undefined;
});

describe("B3: duplicate and out-of-order notifications", () => {
  test("dupSlots=1, reorderSlots=3: digest equals the reference, resume point monotonic and never past a pending slot, one live job per slot", async () => {
    run = await setUpRpcRun({ faults: "dupSlots=1,reorderSlots=3,seed=5" });
    const redis = new Redis(inject("redisUrl"), { maxRetriesPerRequest: null });
    const events = new QueueEvents(BLOCK_QUEUE, { connection: redis, prefix: run.env.QUEUE_PREFIX! });
    closers.push(
      () => events.close(),
      () => redis.quit(),
    );
    await events.waitUntilReady();
    const added = new Map<string, number>();
    let duplicated = 0;
    events.on("added", ({ jobId }) => added.set(jobId, (added.get(jobId) ?? 0) + 1));
    events.on("duplicated", () => duplicated++);

    const c = new pg.Client({ connectionString: run.db.url });
    await c.connect();
    closers.push(() => c.end());
    const samples: { cursor: number; pendingBelow: number }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const r = await c.query<{ cursor: string; pending_below: number }>(
          `select c.slot::text as cursor, (select count(*)::int from slots s where s.slot <= c.slot and s.status = 'pending') as pending_below
           from cursors c where c.id = 'live'`,
        );
        if (r.rows[0]) samples.push({ cursor: Number(r.rows[0].cursor), pendingBelow: r.rows[0].pending_below });
        await new Promise((res) => setTimeout(res, 100));
      }
    })();

    startSlotline(run);
    await waitFor("the slot subscription", async () => run!.chain.subscriptions("slot") > 0, 30_000);
    await produce(run.chain, 15, 150);
    const { indexed } = await expectConverged(run, 60_000);
    sampling = false;
    await sampler;

    expect(run.chain.stats().dupSlots, JSON.stringify(run.chain.stats())).toBeGreaterThan(10);
    expect(samples.length).toBeGreaterThan(30);
    const backwards = samples.filter((s, i) => i > 0 && s.cursor < samples[i - 1]!.cursor);
    expect(backwards).toEqual([]);
    // The resume point passes S + 1 only once S + 1 is stored: never a pending slot at or below it.
    expect(samples.filter((s) => s.pendingBelow > 0)).toEqual([]);
    expect(samples.at(-1)!.cursor).toBeGreaterThan(samples[0]!.cursor);
    // One live job per slot, whatever the notifications did.
    const live = [...added].filter(([id]) => id.startsWith("slot-"));
    expect(live.length).toBeGreaterThanOrEqual(indexed.length - 1);
    expect(live.filter(([, n]) => n > 1)).toEqual([]);
    console.info(
      `B3: ${samples.length} resume-point samples, ${live.length} live jobs, ${duplicated} duplicate adds ignored, ${run.chain.stats().dupSlots} duplicated notifications`,
    );
  }, 120_000);
});
