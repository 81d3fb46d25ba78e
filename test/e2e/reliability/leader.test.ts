import { afterEach, describe, expect, inject, test } from "vitest";
import { INGEST_LEADER_KEY } from "../../../indexer/ingest/leader.js";
import { type Chain, createChain } from "../../../devchain/index.js";
import { ingestEnv, query } from "../../setup/ingest-env.js";
import { type SlotlineProcess, spawnSlotline, waitFor } from "../../setup/processes.js";
import { createTestDatabase, uniquePrefix } from "../../setup/services.js";

// Reliability bar E4, the variant where the leader's lock session is terminated (pg_terminate_backend) while
// the leader process lives on: it must stop writing within 5 s, and the waiting process takes over.

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

/** Backend pids of the sessions holding the ingest leader's advisory lock in `db`. */
async function lockHolders(adminUrl: string, db: string): Promise<number[]> {
  const rows = await query<{ pid: number }>(
    adminUrl,
    `select l.pid from pg_locks l join pg_stat_activity a on a.pid = l.pid
     where l.locktype = 'advisory' and l.granted and a.datname = $1 and (l.classid::bigint << 32) + l.objid::bigint = $2`,
    [db, INGEST_LEADER_KEY],
  );
  return rows.map((r) => r.pid);
}

describe("E4: the leader's lock session terminated", () => {
  test.skipIf(process.env.SLOTLINE_LONG_TESTS !== "1")(
    "the leader stops within 5 s (exit 1, for its supervisor) and the other ingest process takes over",
    async () => {
      const chain: Chain = await createChain({ port: 0, slotMs: 200 });
      cleanups.push(() => chain.close());
      const db = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
      cleanups.push(() => db.drop());
      const env = ingestEnv(chain, db.url, inject("redisUrl"), uniquePrefix(), {
        LOG_LEVEL: "info",
        START_SLOT: String(chain.slot("confirmed")),
      });
      const a = spawnSlotline(["ingest"], env);
      const b = spawnSlotline(["ingest"], env);
      cleanups.push(
        () => a.kill(),
        () => b.kill(),
      );
      const leads = (p: SlotlineProcess) => p.output().includes('"msg":"leading ingest"');
      await waitFor(
        "one leader and one waiting",
        async () => (leads(a) || leads(b)) && /another ingest process leads/.test(a.output() + b.output()),
        30_000,
      );
      const [leader, follower] = leads(a) ? [a, b] : [b, a];
      // What a leader writes (no worker runs here): a `pending` row per produced slot it enqueues.
      const cursor = async () => (await query<{ n: number }>(db.url, "select count(*)::int as n from slots"))[0]!.n;
      const c0 = await cursor();
      await waitFor("the leader to record slots", async () => (await cursor()) > c0, 15_000);

      const holders = await lockHolders(inject("pgAdminUrl"), db.name);
      expect(holders).toHaveLength(1);
      const t0 = Date.now();
      await query(inject("pgAdminUrl"), "select pg_terminate_backend($1)", [holders[0]]);
      const code = await Promise.race([leader.exited, new Promise((r) => setTimeout(() => r("still running"), 5_000))]);
      const stoppedAfter = Date.now() - t0;
      expect(code, leader.output().slice(-3000)).toBe(1);
      expect(leader.output()).toMatch(/leader connection lost; stopping ingest/);
      // The leader is gone: no session of it is left to write.
      await waitFor("the follower to take over", async () => leads(follower), 15_000, 100);
      const tookOver = Date.now() - t0;
      expect(await lockHolders(inject("pgAdminUrl"), db.name)).toHaveLength(1);
      const c1 = await cursor();
      await waitFor("the new leader to record slots", async () => (await cursor()) > c1, 15_000);
      expect(await follower.kill("SIGTERM")).toBe(0);
      process.stdout.write(
        `E4: leader exited ${stoppedAfter} ms after its lock session was terminated; follower led after ${tookOver} ms\n`,
      );
    },
    90_000,
  );
});
