import type { Job } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { parseConfig } from "../../../core/config.js";
import { createDb } from "../../../core/db.js";
import { createDecoder } from "../../../indexer/decode/index.js";
import { createLogger } from "../../../core/logger.js";
import { createMetrics } from "../../../core/metrics.js";
import { runMigrations } from "../../../core/migrate.js";
import { PRESET_NAMES } from "../../../core/presets.js";
import { type BlockJob, createBlockQueue, liveJobId } from "../../../indexer/queue/index.js";
import { createBlockWorker } from "../../../indexer/pipeline/worker.js";
import { createRpcClient } from "../../../indexer/source/rpc.js";
import { createStore } from "../../../indexer/store/index.js";
import { createChain } from "../../../devchain/index.js";
import { digestTables } from "../../setup/digest.js";
import { writeReference } from "../../setup/reference.js";
import { query } from "../../setup/ingest-env.js";
import { type PrivatePostgres, startPrivatePostgres } from "../../setup/private-services.js";
import { type SlotlineProcess, spawnSlotline, waitFor } from "../../setup/processes.js";
import { createTestDatabase, uniquePrefix, withDatabase } from "../../setup/services.js";
import { expectConverged, produce, type Run, setUpRun } from "./converge.js";

// Reliability bar E6: during live ingest, the worker's Postgres connections are terminated every 3 s and the
// server is restarted once (pg_ctl restart -m fast), on a private cluster (initdb in a temp dir, free port, run
// as the postgres OS user) so the machine's shared Postgres is never touched. The worker holds each store
// transaction open 150 ms after writing its rows (failpoint), so terminations land inside transactions.
// 40001 and 40P01 are induced in the real writer's transaction by a trigger on `slots` (second describe).

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
    await waitFor(
      "the first slots stored",
      async () =>
        (await query<{ n: number }>(run.db.url, "select count(*)::int as n from slots where status = 'indexed'"))[0]!
          .n > 0,
      60_000,
    );
    let terminated = 0;
    let inFlight = 0;
    // Every 3 s: wait (up to 1 s) for a worker backend inside a transaction, then terminate every worker backend.
    const terminate = async () => {
      const sql = (where: string) =>
        query<{ n: number }>(
          pgPriv.adminUrl,
          `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where datname = $1 and application_name = 'slotline-worker' and ${where}`,
          [run.db.name],
        );
      for (let t = 0; t < 20; t++) {
        const hit = (await sql("xact_start is not null"))[0]!.n;
        if (hit) {
          inFlight += hit;
          terminated += hit;
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      terminated += (await sql("true"))[0]!.n;
    };
    const killer = setInterval(() => void terminate().catch(() => {}), 3_000);
    try {
      await produce(run.chain, 48, 250, async (i) => {
        if (i === 24) await pgPriv.restart();
      });
    } finally {
      clearInterval(killer);
    }
    expect(worker.child.exitCode, worker.output().slice(-3000)).toBe(null);
    const { indexed } = await expectConverged(run, { timeoutMs: 90_000 });
    stopped = true;
    const retried = (worker.output().match(/job failed, will retry/g) ?? []).length;
    process.stdout.write(
      `E6: ${terminated} worker backends terminated (${inFlight} inside a transaction), 1 restart, ${retried} job attempts failed and retried, ingest restarted ${ingestRestarts}x, ${indexed.length} slots\n`,
    );
    expect(terminated).toBeGreaterThanOrEqual(3);
    expect(inFlight).toBeGreaterThanOrEqual(1);
    // In-flight transactions were cut and their jobs retried; none was dead-lettered as deterministic.
    expect(retried).toBeGreaterThanOrEqual(1);
    expect(worker.output()).not.toMatch(/job dead-lettered/);
    expect((await query<{ n: number }>(run.db.url, "select count(*)::int as n from dead_letters"))[0]!.n).toBe(0);
  }, 240_000);
});

describe("E6: serialization failure and deadlock in the writer's transaction", () => {
  test("40001 then 40P01 raised inside the store transaction: rolled back, the job retried, stored on attempt 3 with the reference's rows", async () => {
    const chain = await createChain({ port: 0, once: true });
    const database = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    const db = createDb(database.url, { max: 2 });
    const redis = new Redis(inject("redisUrl"), { maxRetriesPerRequest: null });
    const prefix = uniquePrefix();
    const queue = createBlockQueue(redis, prefix);
    const ref = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    try {
      // A sequence is not rolled back with the failing transaction: the first write gets 40001, the second 40P01.
      await db.$client.query(`
        create sequence induced_faults;
        create function induce_fault() returns trigger language plpgsql as $$
        declare n bigint := nextval('induced_faults');
        begin
          if n = 1 then raise exception 'induced serialization failure' using errcode = '40001'; end if;
          if n = 2 then raise exception 'induced deadlock' using errcode = '40P01'; end if;
          return new;
        end $$;
        create trigger induce_fault before insert on slots for each row when (new.status = 'indexed') execute function induce_fault();`);
      const config = parseConfig({
        DATABASE_URL: database.url,
        REDIS_URL: inject("redisUrl"),
        QUEUE_PREFIX: prefix,
        SOLANA_RPC_URL: chain.rpcUrl,
        LOG_LEVEL: "silent",
      });
      const rpc = createRpcClient({
        url: chain.rpcUrl,
        maxRps: 10_000,
        concurrency: 4,
        batchSize: 10,
        timeoutMs: 10_000,
      });
      const worker = createBlockWorker(
        { config, logger: createLogger(config), db },
        {
          rpc,
          decoder: createDecoder({ programs: PRESET_NAMES }),
          store: createStore({ db }),
          metrics: createMetrics(),
          redis,
          concurrency: 1,
        },
      );
      const failures: string[] = [];
      worker.on("failed", (_job, err) => void failures.push(err.message));
      const done = new Promise<Job<BlockJob>>((resolve) => worker.on("completed", resolve));
      const slot = chain.history.slots[0]!;
      await queue.enqueue([{ id: liveJobId(slot), data: { slots: [slot], commitment: "confirmed", origin: "live" } }]);
      const job = await done;
      await worker.close();
      expect(failures).toEqual(["induced serialization failure", "induced deadlock"]);
      expect(job.attemptsStarted).toBe(3);
      await writeReference(chain.rpcUrl, ref.url, [slot], "confirmed");
      expect(await digestTables(database.url)).toEqual(await digestTables(ref.url));
    } finally {
      await queue.queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      redis.disconnect();
      await db.$client.end();
      await database.drop();
      await ref.drop();
      await chain.close();
    }
  }, 60_000);
});
