/**
 * Redis Sentinel (REDIS_SENTINELS): a private master, a replica and three sentinels; the daemon (ingest, worker, API)
 * reaches Redis only through the sentinels. The master is killed in the middle of ingest: the sentinels promote the
 * replica, every connection follows it, and the run ends with the same rows as a fault-free one (jobs the promotion
 * lost are enqueued again from the `slots` table).
 */
import { afterEach, describe, expect, test } from "vitest";
import { freePort, startSentinelRedis } from "../../setup/private-services.js";
import { query } from "../../setup/ingest-env.js";
import { spawnSlotline, waitFor } from "../../setup/processes.js";
import { expectConverged, produce, setUpRun } from "./converge.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

const stored = async (dbUrl: string) =>
  (await query<{ n: number }>(dbUrl, "select count(*)::int as n from slots where status = 'indexed'"))[0]!.n;

describe("Redis Sentinel", () => {
  test("the master killed during ingest: the sentinels promote the replica, ingest goes on, the rows equal a fault-free run", async () => {
    const redis = await startSentinelRedis();
    cleanups.push(() => redis.destroy());
    const apiPort = await freePort();
    // REDIS_URL's host points nowhere: every connection must come through the sentinels.
    const run = await setUpRun({
      redisUrl: "redis://127.0.0.1:9/0",
      extra: { REDIS_SENTINELS: redis.sentinels, REDIS_SENTINEL_NAME: redis.name, LOG_LEVEL: "info" },
    });
    cleanups.push(() => run.cleanup());
    const p = spawnSlotline(["start"], { ...run.env, API_PORT: String(apiPort) });
    run.procs.push(p);

    await produce(run.chain, 12, 300);
    await waitFor("slots stored through the first master", async () => (await stored(run.db.url)) > 0, 30_000, 200);
    const first = await redis.masterPort();
    const killedAt = Date.now();
    expect(await redis.killMaster()).toBe(first);
    let promoted = 0;
    // About 45 slots in all at most (hosts.test.ts says why: a clamped supply on the local chain past them).
    await produce(run.chain, 16, 300, async () => {
      if (!promoted && (await redis.masterPort().catch(() => first)) !== first) promoted = Date.now() - killedAt;
    });
    await waitFor("the sentinels to promote the replica", async () => (await redis.masterPort()) !== first, 20_000);
    promoted ||= Date.now() - killedAt;
    const before = await stored(run.db.url);
    await produce(run.chain, 6, 300);
    await waitFor(
      "slots stored through the new master",
      async () => (await stored(run.db.url)) > before,
      30_000,
      200,
    ).catch((err) => {
      throw new Error(`${(err as Error).message}\n${p.output().slice(-6000)}`);
    });
    expect(p.child.exitCode, p.output().slice(-3000)).toBe(null);

    // The API's Redis (status hash, events, cache) follows the failover too.
    const r = await fetch(`http://127.0.0.1:${apiPort}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ indexerStatus { latestSlot chainTip } }" }),
    });
    const body = (await r.json()) as {
      data?: { indexerStatus: { latestSlot: number | null; chainTip: number | null } };
    };
    expect(body.data?.indexerStatus.latestSlot).toBeGreaterThan(0);

    const { indexed } = await expectConverged(run, { timeoutMs: 90_000 });
    process.stdout.write(
      `sentinel: master ${first} killed, replica promoted after ${promoted} ms; ${indexed.length} slots stored, equal to the fault-free run\n`,
    );
  }, 240_000);
});
