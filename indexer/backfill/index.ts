/**
 * Backfill: index history by slot range (getBlocks in chunks -> block jobs) or by address
 * (getSignaturesForAddress pages -> signature jobs), through the same decode and store path as live ingest.
 * Work goes on the BullMQ queue for any number of workers, or is done in-process with `inline`.
 * @dev progress lives in `cursors` (id `backfill-<hash of the plan>`): a chunk or page only counts once every
 * slot or signature in it is stored, so a kill at any moment resumes where it stopped and doubles nothing.
 * The live resume point is never touched.
 */
import { createHash } from "node:crypto";
import type { Context } from "../../core/context.js";
import type { BlockJob, BlockQueue } from "../queue/index.js";
import type { BatchIndexer } from "../pipeline/index.js";
import { RpcFatalError, type RpcClient } from "../source/index.js";
import type { Store } from "../store/index.js";

import { runLanes } from "./lanes.js";
import type { BackfillPlan } from "./plan.js";

export { type BackfillArgs, type BackfillPlan, parseBackfillPlan } from "./plan.js";

/** Progress figures, reported as work completes. */
export type BackfillProgress = { done: number; total: number | null; transactions: number; startedAt: number };

/** The summary printed at the end. */
export type BackfillSummary = {
  id: string;
  slots: number;
  skippedSlots: number;
  transactions: number;
  swaps: number;
  transfers: number;
  durationMs: number;
  status: "done" | "stopped";
};

/** Produced blocks per chunk (one getBlocksWithLimit call): dense mainnet ranges and sparse ones alike. */
const CHUNK_BLOCKS = 500;
/** Slots per chunk when the endpoint lists no blocks (each slot asked with getBlock; skipped ones are recorded). */
const CHUNK_SLOTS = 500;
const PAGE = 1_000;

/** Stable id of a plan: running the same command again resumes it. */
export function backfillId(plan: BackfillPlan): string {
  const key =
    plan.kind === "slots"
      ? `slots:${plan.fromSlot}:${plan.toSlot}`
      : `address:${plan.address}:${plan.before ?? ""}:${plan.until ?? ""}:${plan.limit ?? ""}`;
  return `backfill-${createHash("sha1").update(key).digest("hex").slice(0, 12)}`;
}

type Deps = {
  rpc: RpcClient;
  store: Store;
  queue: BlockQueue;
  indexer?: BatchIndexer;
  concurrency: number;
  programs?: string[];
};

/** A job failed only because workers died under it too often (BullMQ's maxStalledCount): not the job's fault. */
const STALLED_OUT = /stalled more than allowable limit/;
/** Retries of a stalled-out job per backfill run (a job that kills every worker that takes it still ends). */
const MAX_STALL_RETRIES = 5;

/**
 * Retries our jobs that failed by stalling out. Without this a backfill on the queue waits forever: its job id
 * stays in the failed set, so enqueuing it again is a no-op (found by the chaos test: two worker kills under one job).
 */
async function retryStalledOut(queue: BlockQueue, ids: string[], counts: Map<string, number>): Promise<void> {
  for (const id of ids) {
    const job = await queue.queue.getJob(id);
    if (!job || !STALLED_OUT.test(job.failedReason ?? "") || !(await job.isFailed())) continue;
    const n = (counts.get(id) ?? 0) + 1;
    if (n > MAX_STALL_RETRIES) continue;
    counts.set(id, n);
    await job.retry("failed").catch(() => {});
  }
}

/** Runs (or resumes) a backfill until it is done or `signal` aborts. */
export async function runBackfill(
  ctx: Pick<Context, "db" | "logger">,
  deps: Deps,
  plan: BackfillPlan,
  opts: { signal: AbortSignal; onProgress?: (p: BackfillProgress) => void },
): Promise<BackfillSummary> {
  const id = backfillId(plan);
  const log = ctx.logger.child({ stage: "backfill", backfill_id: id });
  const t0 = Date.now();
  const row = await deps.store.openBackfill(id, {
    slot: plan.kind === "slots" ? plan.fromSlot : null,
    position: plan.kind === "address" ? (plan.before ?? null) : null,
    params: plan,
    total: plan.kind === "slots" ? plan.toSlot - plan.fromSlot + 1 : (plan.limit ?? null),
  });
  const stallRetries = new Map<string, number>();
  const progress: BackfillProgress = { done: 0, total: null, transactions: 0, startedAt: t0 };
  progress.done = Number(row.done);
  progress.total = row.total === null ? null : Number(row.total);
  log.info(
    { kind: plan.kind, resume_from: row.slot ?? row.position, done: progress.done },
    row.done === "0" ? "backfill starting" : "backfill resuming",
  );

  /** Runs jobs: in-process with bounded concurrency, or on the queue (the caller's workers do them). */
  async function execute(jobs: { id: string; data: BlockJob }[], isDone: () => Promise<boolean>) {
    const indexer = deps.indexer;
    if (indexer) {
      await runLanes(jobs, deps.concurrency, opts.signal, async (j) => {
        const c = await indexer.index(j.data);
        progress.transactions += c.transactions;
      });
      return;
    }
    await deps.queue.enqueue(jobs);
    for (let turn = 1; !opts.signal.aborted && !(await isDone()); turn++) {
      await new Promise((r) => setTimeout(r, 250));
      if (turn % 20 === 0)
        await retryStalledOut(
          deps.queue,
          jobs.map((j) => j.id),
          stallRetries,
        );
    }
  }

  /**
   * The next CHUNK_BLOCKS produced slots from `from` (a short answer means the range is exhausted), or null when the
   * endpoint does not serve the method at all (-32601).
   */
  async function producedFrom(from: number): Promise<number[] | null> {
    try {
      const next = await deps.rpc.call<number[]>("getBlocksWithLimit", [
        from,
        CHUNK_BLOCKS,
        { commitment: "finalized" },
      ]);
      if (!Array.isArray(next)) throw new Error("getBlocksWithLimit: expected an array of slots");
      return next;
    } catch (err) {
      if (err instanceof RpcFatalError && err.code === -32601) return null;
      throw err;
    }
  }

  let status: BackfillSummary["status"] = "done";
  const signaturesThisRun: string[] = [];
  if (row.status !== "done") {
    if (plan.kind === "slots") {
      let from = Number(row.slot ?? plan.fromSlot);
      let listsBlocks = true;
      while (from <= plan.toSlot && !opts.signal.aborted) {
        let produced: number[];
        let to: number;
        const next = listsBlocks ? await producedFrom(from) : null;
        if (next) {
          produced = next.filter((s) => s >= from && s <= plan.toSlot);
          to = next.length < CHUNK_BLOCKS || produced.length < next.length ? plan.toSlot : produced.at(-1)!;
        } else {
          // An archive that lists no blocks (Old Faithful): every slot of the chunk is asked for with getBlock; the
          // worker records -32007 / -32009 as skipped and retries -32004, so the rows are those of a listed range.
          if (listsBlocks)
            log.warn({ from }, "the endpoint does not serve getBlocksWithLimit: asking getBlock for every slot");
          listsBlocks = false;
          to = Math.min(plan.toSlot, from + CHUNK_SLOTS - 1);
          produced = Array.from({ length: to - from + 1 }, (_, i) => from + i);
        }
        const todo = await deps.store.notDone(produced);
        const jobs: { id: string; data: BlockJob }[] = [];
        for (let i = 0; i < todo.length; i += plan.batchSize) {
          const slots = todo.slice(i, i + plan.batchSize);
          jobs.push({
            id: `${id}-${slots[0]}-${slots.at(-1)}`,
            data: { slots, commitment: "finalized", origin: id, programs: deps.programs },
          });
        }
        await execute(jobs, async () => (await deps.store.notDone(todo)).length === 0);
        if (opts.signal.aborted) break;
        // The chunk is stored: its end is the new resume point, in one statement with the progress count.
        progress.done += to - from + 1;
        await deps.store.backfillReachedSlot(id, to + 1, progress.done);
        opts.onProgress?.(progress);
        from = to + 1;
      }
    } else {
      let before = row.position ?? undefined;
      const seen = new Set<string>();
      while (!opts.signal.aborted) {
        const remaining = plan.limit === undefined ? PAGE : Math.min(PAGE, plan.limit - progress.done);
        if (remaining <= 0) break;
        const page = await deps.rpc.call<{ signature: string; slot: number }[]>("getSignaturesForAddress", [
          plan.address,
          { before, until: plan.until, limit: remaining, commitment: "finalized" },
        ]);
        // Deduplicate: same-slot ordering may differ between pages of a node (and between nodes).
        const sigs = page.map((p) => p.signature).filter((s) => !seen.has(s) && (seen.add(s), true));
        signaturesThisRun.push(...sigs);
        const todo = await deps.store.unstoredSignatures(sigs);
        const jobs: { id: string; data: BlockJob }[] = [];
        for (let i = 0; i < todo.length; i += plan.batchSize) {
          const batch = todo.slice(i, i + plan.batchSize);
          jobs.push({
            id: `${id}-${createHash("sha1").update(batch.join(",")).digest("hex").slice(0, 16)}`,
            data: { slots: [], signatures: batch, commitment: "finalized", origin: id, programs: deps.programs },
          });
        }
        await execute(jobs, async () => (await deps.store.unstoredSignatures(todo)).length === 0);
        if (opts.signal.aborted) break;
        progress.done += page.length;
        if (page.length > 0) before = page[page.length - 1]!.signature;
        await deps.store.backfillReachedPosition(id, before ?? null, progress.done);
        opts.onProgress?.(progress);
        if (page.length < remaining) break;
      }
    }
    if (opts.signal.aborted) status = "stopped";
    // Inline, this process is the worker: mints stored by an earlier run that was killed before their lookup are
    // looked up here (on the queue, the workers' sweep does it).
    if (deps.indexer && !opts.signal.aborted) while ((await deps.indexer.sweepTokens()) > 0);
    await deps.store.setCursorStatus(id, status === "done" ? "done" : "paused");
  }

  const summary = await summarize(ctx, plan, id, signaturesThisRun);
  return { ...summary, durationMs: Date.now() - t0, status };
}

async function summarize(
  ctx: Pick<Context, "db">,
  plan: BackfillPlan,
  id: string,
  signatures: string[],
): Promise<Omit<BackfillSummary, "durationMs" | "status">> {
  const pool = ctx.db.$client;
  if (plan.kind === "slots") {
    const r = await pool.query<{ slots: number; skipped: number; txs: number; swaps: number; transfers: number }>(
      `select (select count(*)::int from slots where slot between $1 and $2 and status = 'indexed') as slots,
              (select count(*)::int from slots where slot between $1 and $2 and status = 'skipped') as skipped,
              (select count(*)::int from transactions where slot between $1 and $2) as txs,
              (select count(*)::int from swaps where slot between $1 and $2) as swaps,
              (select count(*)::int from token_transfers where slot between $1 and $2) as transfers`,
      [plan.fromSlot, plan.toSlot],
    );
    const x = r.rows[0]!;
    // Slots getBlocks left out produced nothing and get no row: the rest of the range, once every produced one is
    // stored.
    const skipped = Math.max(x.skipped, plan.toSlot - plan.fromSlot + 1 - x.slots);
    return { id, slots: x.slots, skippedSlots: skipped, transactions: x.txs, swaps: x.swaps, transfers: x.transfers };
  }
  // Address mode: what this run's signatures stored (signatures that invoke no tracked program store nothing).
  const r = await pool.query<{ txs: number; swaps: number; transfers: number; slots: number }>(
    `select count(*)::int as txs, count(distinct slot)::int as slots,
            (select count(*)::int from swaps where signature = any($1::text[])) as swaps,
            (select count(*)::int from token_transfers where signature = any($1::text[])) as transfers
     from transactions where signature = any($1::text[])`,
    [signatures],
  );
  const x = r.rows[0]!;
  return { id, slots: x.slots, skippedSlots: 0, transactions: x.txs, swaps: x.swaps, transfers: x.transfers };
}
