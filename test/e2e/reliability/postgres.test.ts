import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runMigrations } from "../../../indexer/migrate.js";
import { query } from "../../setup/ingest-env.js";
import { type PrivatePostgres, startPrivatePostgres } from "../../setup/private-services.js";
import { type SlotlineProcess, spawnSlotline, waitFor } from "../../setup/processes.js";
import { withDatabase } from "../../setup/services.js";
import { expectConverged, produce, type Run, setUpRun } from "./converge.js";

// Reliability bar E6: during live ingest, the worker's Postgres connections are terminated every 3 s and the
// server is restarted once (pg_ctl restart -m fast), on a private cluster (initdb in a temp dir, free port, run
// as the postgres OS user) so the machine's shared Postgres is never touched. The worker holds each store
// transaction open 150 ms after writing its rows (failpoint), so terminations land inside transactions.
// 40001/40P01 are classified retryable (test/unit/queue/retry-classification.test.ts); inducing them in the
// real writer is not done here.

describe("E6: Postgres restarts and lost connections", () => {
  let pgPriv: PrivatePostgres;
  let run: Run;
  beforeAll(async () => {
    pgPriv = await startPrivatePostgres();
    await runMigrations(withDatabase(pgPriv.adminUrl, "slotline_tmpl"));
  }, 120_000);
  afterAll(async () => {
    await run?.cleanup();
    await pgPriv?.destroy();
  });

  test("worker connections terminated every 3 s and one fast restart: no crash, jobs retried, same database, no partial slot", async () => {
    run = await setUpRun({ dbAdminUrl: pgPriv.adminUrl, template: "slotline_tmpl" });
    const ingest = () => spawnSlotline(["ingest"], run.env);
    const worker = spawnSlotline(["worker"], { ...run.env, SLOTLINE_FAILPOINTS: "slot.afterRows:sleep(150)" });
    run.procs.push(ingest(), worker);
    // A supervisor: ingest exits 1 when its leader session dies with the server, and is started again.
    let ingestRestarts = 0;
    const supervise = (p: SlotlineProcess): void =>
      void p.exited.then((code) => {
        if (code !== 1 || stopped) return;
        ingestRestarts++;
        run.procs[0] = ingest();
        supervise(run.procs[0]);
      });
    let stopped = false;
    supervise(run.procs[0]!);

    // Faults start once both processes work: a slot stored.
    await produce(run.chain, 3, 200);
    await waitFor("the first slots stored", async () => (await query<{ n: number }>(run.db.url, "select count(*)::int as n from slots where status = 'indexed'"))[0]!.n > 0, 60_000);
    let terminated = 0;
    const killer = setInterval(() => {
      void query<{ n: number }>(
        pgPriv.adminUrl,
        "select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where datname = $1 and application_name = 'slotline-worker'",
        [run.db.name],
      ).then((r) => (terminated += r[0]!.n), () => {});
    }, 3_000);
    try {
      await produce(run.chain, 60, 250, async (i) => {
        if (i === 30) await pgPriv.restart();
      });
    } finally {
      clearInterval(killer);
    }
    expect(worker.child.exitCode, worker.output().slice(-3000)).toBe(null);
    const { indexed } = await expectConverged(run, { timeoutMs: 90_000 });
    stopped = true;
    const retried = (worker.output().match(/job failed, will retry/g) ?? []).length;
    process.stdout.write(`E6: ${terminated} worker backends terminated, 1 restart, ${retried} job attempts failed and retried, ingest restarted ${ingestRestarts}x, ${indexed.length} slots\n`);
    expect(terminated).toBeGreaterThanOrEqual(3);
    // In-flight transactions were cut and their jobs retried; none was dead-lettered as deterministic.
    expect(retried).toBeGreaterThanOrEqual(1);
    expect(worker.output()).not.toMatch(/job dead-lettered/);
    expect((await query<{ n: number }>(run.db.url, "select count(*)::int as n from dead_letters"))[0]!.n).toBe(0);
  }, 240_000);
});
