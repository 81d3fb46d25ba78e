/**
 * The raw write limits everything else is compared with: multi-row upserts of transaction-shaped rows into
 * Postgres, and a BullMQ round trip (add in bulk -> worker -> completed).
 */
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import { createDb } from "../../core/db.js";
import type { BenchEntry, BenchSuite } from "../harness.js";
import { BENCH_REDIS_URL, freshDatabase } from "../services.js";

const ROWS = 50_000;
const BATCH = 1_000;
const JOBS = 5_000;

/** Transaction-shaped rows as the store writes them (base58-length strings, numeric fee, program id arrays). */
type Row = { signature: string; slot: number; txIndex: number; fee: string; payer: string; programs: string };

function makeRows(run: number): Row[] {
  const rows: Row[] = [];
  for (let i = 0; i < ROWS; i++) {
    rows.push({
      signature: `${run}-${i}-`.padEnd(88, "x"),
      slot: 300_000_000 + Math.floor(i / 400),
      txIndex: i % 400,
      fee: "5000",
      payer: `payer${i % 5000}`.padEnd(44, "p"),
      programs: `{675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8,TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA}`,
    });
  }
  return rows;
}

/** One multi-row upsert with one array parameter per column (unnest): the fastest plain-SQL path. */
const UPSERT_TRANSACTIONS_SQL = `
  insert into transactions (signature, slot, block_time, tx_index, fee, success, fee_payer, compute_units, program_ids, log_truncated)
  select s, sl, now(), ti, f, true, p, 1000, pr::text[], false
  from unnest($1::text[], $2::bigint[], $3::int[], $4::numeric[], $5::text[], $6::text[]) as u(s, sl, ti, f, p, pr)
  on conflict (signature, slot) do update set tx_index = excluded.tx_index, fee = excluded.fee`;

function upsertEntry(): BenchEntry {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let pool: pg.Pool;
  let run = 0;
  return {
    name: "postgres-upsert-limit",
    description: `multi-row upserts (unnest, ${BATCH} rows per statement, 2 connections) of ${ROWS} transaction-shaped rows`,
    unit: "rows/s",
    higherIsBetter: true,
    async setup() {
      db = await freshDatabase("slotline_bench_write");
      // the indexer's own pool: it never lets a terminated connection crash the process (teardown's pool.end()
      // resolves before its sockets close, and the drop with (force) that follows can terminate one)
      pool = createDb(db.url, { max: 2 }).$client;
      // transactions is partitioned by slot range: the rows' partition is made first, as the store does
      await pool.query("select slotline_ensure_slot_partitions(array[300000000::int8])");
    },
    async measure() {
      const rows = makeRows(run++);
      const batches: Row[][] = [];
      for (let i = 0; i < rows.length; i += BATCH) batches.push(rows.slice(i, i + BATCH));
      const t0 = performance.now();
      // Two writers, as two workers on this 2-core machine would be.
      const lanes = [0, 1].map(async (lane) => {
        for (let b = lane; b < batches.length; b += 2) {
          const batch = batches[b]!;
          await pool.query(UPSERT_TRANSACTIONS_SQL, [
            batch.map((r) => r.signature),
            batch.map((r) => r.slot),
            batch.map((r) => r.txIndex),
            batch.map((r) => r.fee),
            batch.map((r) => r.payer),
            batch.map((r) => r.programs),
          ]);
        }
      });
      await Promise.all(lanes);
      return ROWS / ((performance.now() - t0) / 1000);
    },
    async teardown() {
      await pool.end();
      await db.drop();
    },
  };
}

function bullmqEntry(): BenchEntry {
  let connection: Redis;
  return {
    name: "bullmq-round-trip",
    description: `${JOBS} jobs added with addBulk, processed by one worker (concurrency 50), removed on completion`,
    unit: "jobs/s",
    higherIsBetter: true,
    async setup() {
      connection = new Redis(BENCH_REDIS_URL, { maxRetriesPerRequest: null });
    },
    async measure() {
      const name = `bench-${Date.now()}`;
      const queue = new Queue(name, { connection, prefix: "slotline-bench" });
      let done = 0;
      let resolveAll!: () => void;
      const all = new Promise<void>((r) => (resolveAll = r));
      const worker = new Worker(name, async (job) => job.data.slot, {
        connection: connection.duplicate(),
        prefix: "slotline-bench",
        concurrency: 50,
        removeOnComplete: { count: 0 },
      });
      worker.on("completed", () => {
        if (++done === JOBS) resolveAll();
      });
      await worker.waitUntilReady();
      const t0 = performance.now();
      for (let i = 0; i < JOBS; i += 500) {
        const jobs = Array.from({ length: 500 }, (_, k) => ({
          name: "store-slot",
          data: { slot: i + k },
          opts: { jobId: `slot-${i + k}` },
        }));
        await queue.addBulk(jobs);
      }
      await all;
      const rate = JOBS / ((performance.now() - t0) / 1000);
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
      return rate;
    },
    async teardown() {
      connection.disconnect();
    },
  };
}

const suite: BenchSuite = { name: "write-limit", entries: () => [upsertEntry(), bullmqEntry()] };

export default suite;
