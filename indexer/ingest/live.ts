/**
 * Live ingest (block and gRPC mode): slot notifications (or, in gRPC mode, the streamed blocks, see grpc.ts) wake a
 * loop that asks getBlocks for the produced slots above the last scanned one, records them as pending and enqueues
 * one job per produced block.
 * A single leader (advisory lock on a dedicated connection) runs it; a finality tracker rolls back
 * confirmed slots that did not finalize.
 */
import type { Redis } from "ioredis";
import type { Context } from "../../core/context.js";
import { NonRetryableError } from "../../core/errors.js";
import type { Metrics } from "../../core/metrics.js";
import { type BlockQueue, liveJobId } from "../queue/index.js";
import { type StatusEndpoint, statusKey } from "../../core/events.js";
import type { ChainRow, Store } from "../store/index.js";
import { fetchBlockHeads, GET_BLOCKS_MAX_RANGE, producedSlots } from "../source/index.js";
import type { RpcClient, RpcPool } from "../source/index.js";
import { type ChainGap, checkLinks, onFinalizedChain } from "./chain-check.js";
import { INGEST_LEADER_KEY, acquireLeadership } from "./leader.js";
import { createSlotFeed, type SlotFeed } from "../source/index.js";
import { createStreamIntake, type StreamIntakeStats } from "./grpc.js";

/** Widest-range getBlocks calls one scan makes past slots without blocks before it yields (up to 50M slots). */
const MAX_EMPTY_LOOKAHEAD = 100;

/** Fetches of one block (or left-out parent) to settle a link before the gap is an alarm. */
export const CHAIN_FETCHES = 3;
/** After the fetches ran out, one more every this many ms (a node that fixed itself lets ingest go on). */
const CHAIN_REFETCH_MS = 30_000;
/** Stored slots read per link check. */
const CHAIN_ROWS = 10_000;
/** Finalized slots listed past the finality mark, to find the child of a block getBlocks left out. */
const FINALITY_LOOKAHEAD = 1_000;

/** Tunables; defaults suit mainnet. */
export type LiveIngestOptions = {
  /** most jobs waiting in the queue before ingest stops enqueuing (backpressure) */
  maxQueued?: number;
  /** most slots scanned per loop turn */
  maxScan?: number;
  /** fallback poll when no notification arrives */
  pollMs?: number;
  /** WebSocket silence that triggers a reconnect */
  stallMs?: number;
  /** gRPC mode: stream silence that triggers a reconnect */
  grpcStallMs?: number;
  finalityEveryMs?: number;
  reconcileEveryMs?: number;
};

/** Status published to Redis (`${QUEUE_PREFIX}:status`) for `indexerStatus` and readiness. */
export type IngestStatus = {
  tip: number;
  finalized: number | null;
  resumeSlot: number | null;
  queueDepth: number;
  updatedAt: string;
  /** set when ingest stopped for good and needs an operator (deep_reorg) */
  halted?: { error: "deep_reorg"; slots: number[]; message: string };
  /**
   * set while a stored block does not chain to the one before it: the resume point holds below `slot` until the
   * block (or the parent getBlocks left out) is fetched and links; `fetches` so far, an alarm past CHAIN_FETCHES
   */
  gap?: Omit<ChainGap, "fetch"> & { fetching: number; fetches: number };
  /** gRPC mode: the stream's reconnects, updates held unhandled (now, most ever) and what the intake took */
  stream?: StreamIntakeStats & { reconnects: number; buffered: number; maxBuffered: number };
};

/** Finalized slots re-checked against the chain on every finality poll (the deep-reorg window). */
export const DEEP_REORG_WINDOW = 64;

/**
 * The chain no longer contains slots stored as finalized: a fork whose common ancestor is below the finalized
 * watermark. Nothing may be rolled back below finality, so ingest halts and waits for an operator.
 */
export class DeepReorgError extends NonRetryableError {
  override name = "DeepReorgError";
  constructor(readonly slots: number[]) {
    super(
      `deep_reorg: finalized slots ${slots.join(", ")} are no longer on the finalized chain; refusing to roll back below finality`,
    );
  }
}

/** The /health fields of an ingest: `status: "failed"` (HTTP 503) once it halted. */
export function ingestHealth(status: IngestStatus): Record<string, unknown> {
  if (status.halted) return { status: "failed", error: status.halted.error, ingest: status };
  const gap = status.gap;
  if (!gap) return { ingest: status };
  // Said at the top level, as a dead letter holding the resume point is: the resume point holds until it links.
  const out: Record<string, unknown> = { gap, ingest: status };
  if (gap.fetches >= CHAIN_FETCHES) out.status = "failed";
  return out;
}

/** The reason a daemon is not ready because a block does not chain (fetched again to no avail), or null. */
export function gapReason(status: IngestStatus): string | null {
  const gap = status.gap;
  if (!gap || gap.fetches < CHAIN_FETCHES) return null;
  return `resume point held below slot ${gap.slot}: ${gap.reason} (fetched ${gap.fetches} times)`;
}

/** The running ingest. */
export type LiveIngest = { status(): IngestStatus; stop(): Promise<void>; done: Promise<void> };

/** Sleeps `ms`, or less when `signal` aborts or `wake` is called; leaves no listener behind. */
function sleep(ms: number, signal?: AbortSignal, onWake?: (wake: () => void) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    onWake?.(done);
  });
}

/** The pool's endpoints as the status hash carries them (JSON), or undefined for a client that is no pool. */
export function endpointsOf(rpc: RpcClient): string | undefined {
  const pool = rpc as Partial<Pick<RpcPool, "endpoints">>;
  if (typeof pool.endpoints !== "function") return undefined;
  const list: StatusEndpoint[] = pool.endpoints().map((e) => ({
    endpoint: e.endpoint,
    archive: e.archive,
    state: e.state,
    requests: e.requests,
    errors: e.errors,
    latencyMs: e.latencyMs,
    p95Ms: e.p95Ms,
  }));
  return JSON.stringify(list);
}

/** Waits for leadership, then runs until `signal` aborts; resolves `done` after a clean stop. */
export async function startLiveIngest(
  ctx: Pick<Context, "config" | "logger" | "shutdown">,
  deps: {
    rpc: RpcClient;
    store: Store;
    queue: BlockQueue;
    metrics: Metrics;
    redis: Redis;
    /** gRPC mode: the stream is filtered on its tracked programs (without it, whole blocks are streamed) */
    decoder?: { trackedProgramIds: ReadonlySet<string> };
  },
  opts: LiveIngestOptions = {},
): Promise<LiveIngest> {
  const { config } = ctx;
  const log = ctx.logger.child({ stage: "ingest" });
  const signal = ctx.shutdown.signal;
  const maxQueued = opts.maxQueued ?? 2_000;
  const maxScan = opts.maxScan ?? 50_000;
  const commitment = config.COMMITMENT;

  const state: IngestStatus = {
    tip: 0,
    finalized: null,
    resumeSlot: null,
    queueDepth: 0,
    updatedAt: new Date().toISOString(),
  };
  const leader = await acquireLeadership({
    url: config.DATABASE_URL,
    key: INGEST_LEADER_KEY,
    logger: log,
    signal,
    onLost: () => void ctx.shutdown.kill("leadership lost"),
  });
  if (!leader) return { status: () => state, stop: async () => {}, done: Promise.resolve() };

  const tipNow = await deps.rpc.call<number>("getSlot", [{ commitment }]);
  let resume = await deps.store.liveResumePoint();
  if (resume === null) resume = await deps.store.initLiveCursor((config.START_SLOT ?? tipNow) - 1);
  let scanned = resume;
  // Slots stored at confirmed before a restart are checked too: start at the lowest one still unfinalized.
  const unfinalized = await deps.store.lowestUnfinalized();
  let finalityChecked = unfinalized === null ? resume : Math.min(resume, unfinalized - 1);
  state.tip = tipNow;
  state.resumeSlot = resume;
  log.info({ resume_slot: resume, tip: tipNow }, "live ingest starting");

  let wake: (() => void) | undefined;
  const poke = () => wake?.();
  // gRPC mode: the stream wakes the loop and enqueues each streamed block at once; the scan below stays the authority.
  const stream =
    config.INGEST_MODE === "grpc"
      ? createStreamIntake(
          ctx,
          { ...deps, programs: deps.decoder && [...deps.decoder.trackedProgramIds] },
          {
            maxQueued,
            stallMs: opts.grpcStallMs ?? 15_000,
            resume: () => resume,
            wake: poke,
          },
        )
      : undefined;
  const feed: Pick<SlotFeed, "close"> =
    stream ??
    createSlotFeed({
      rpcUrl: config.SOLANA_RPC_URL,
      wsUrl: config.SOLANA_WS_URL,
      stallMs: opts.stallMs ?? 10_000,
      logger: log,
      metrics: deps.metrics,
      onSlot: poke,
    });

  /** One scan: produced slots above `scanned` up to the tip (bounded), enqueued; the rest recorded skipped. */
  async function scan(): Promise<boolean> {
    const tip = await deps.rpc.call<number>("getSlot", [{ commitment }]);
    state.tip = tip;
    deps.metrics.chainTip.set(tip);
    const depth = await deps.queue.depth();
    state.queueDepth = depth;
    deps.metrics.queueDepth.set(depth);
    // gRPC mode: no further than the stream has delivered while it is live (see StreamIntake.reach).
    const limit = Math.min(tip, stream?.reach() ?? tip);
    if (depth >= maxQueued || limit <= scanned) return false;
    let to = Math.min(limit, scanned + maxScan);
    let produced = await producedSlots(deps.rpc, scanned + 1, to, commitment);
    // A stretch without blocks (a START_SLOT far behind on a sparse cluster, or recorded history with gaps of
    // millions of slots): look ahead in the widest ranges getBlocks allows, in this scan, up to the next block.
    for (let n = 0; produced.length === 0 && to < limit && n < MAX_EMPTY_LOOKAHEAD; n++) {
      const far = Math.min(limit, to + GET_BLOCKS_MAX_RANGE);
      const found = await producedSlots(deps.rpc, to + 1, far, commitment);
      // Then as usual: at most maxScan slots from the first block found.
      to = found.length === 0 ? far : Math.min(far, found[0]! + maxScan - 1);
      produced = found.filter((s) => s <= to);
    }
    // Pending rows first, then jobs: the resume point cannot pass a slot whose job might be lost.
    const todo = await deps.store.notDone(produced);
    await deps.store.markPending(todo);
    await deps.queue.enqueue(todo.map((s) => ({ id: liveJobId(s), data: { slots: [s], commitment, origin: "live" } })));
    log.debug(
      { from: scanned + 1, to, produced: produced.length, enqueued: todo.length, queue_depth: depth },
      "scanned",
    );
    scanned = to;
    return to < limit;
  }

  /** Fetches made to settle a link, by slot: the job in flight and when the last one was enqueued. */
  const fetches = new Map<number, { n: number; jobId: string; at: number }>();

  /** Enqueues `slot` again (a block that did not link, or a parent left out) unless its last fetch is in flight. */
  async function fetchForLink(gap: ChainGap): Promise<number> {
    const slot = gap.fetch;
    const f = fetches.get(slot);
    if (f) {
      const job = await deps.queue.queue.getJob(f.jobId);
      const st = job ? await job.getState() : "completed";
      if (st !== "completed" && st !== "failed") return f.n;
      if (f.n >= CHAIN_FETCHES && Date.now() - f.at < CHAIN_REFETCH_MS) return f.n;
    }
    const n = (f?.n ?? 0) + 1;
    if (slot !== gap.slot) {
      // A parent: whatever the node said before (skipped), it is fetched as a slot to index, and pending until then.
      await deps.store.forgetSlots([slot]);
      await deps.store.markPending([slot]);
    }
    const jobId = `chain-${slot}-${Date.now()}`;
    fetches.set(slot, { n, jobId, at: Date.now() });
    await deps.queue.enqueue([{ id: jobId, data: { slots: [slot], commitment, origin: "live" } }]);
    (n >= CHAIN_FETCHES ? log.error : log.warn).call(
      log,
      { slot: gap.slot, parent: gap.parent, expected: gap.expected, fetching: slot, fetch: n },
      `block does not chain to the previous block: ${gap.reason}`,
    );
    return n;
  }

  /**
   * How far the resume point may move: up to `scanned` or the lowest pending slot, and no further than the stored
   * blocks chain (checkLinks). A gap holds it below the block that does not link, until a fetch settles it.
   */
  async function verifiedUpTo(upTo: number): Promise<number> {
    const from = resume ?? scanned;
    const [pending] = await deps.store.pendingSlots(from, 1);
    let to = pending === undefined ? upTo : Math.min(upTo, pending - 1);
    if (to <= from) return upTo;
    const rows = await deps.store.chainRows(from + 1, to, CHAIN_ROWS);
    if (rows.length === CHAIN_ROWS) to = rows[rows.length - 1]!.slot;
    const check = await checkLinks(from, to, rows, async (s) => (await deps.store.chainRows(s, s, 1))[0]);
    for (const s of fetches.keys()) if (s <= check.verifiedTo) fetches.delete(s);
    if (!check.gap) {
      delete state.gap;
      return check.verifiedTo;
    }
    const { fetch, ...gap } = check.gap;
    const n = await fetchForLink(check.gap);
    state.gap = { ...gap, fetching: fetch, fetches: n };
    return check.verifiedTo;
  }

  const stallRetries = new Map<number, number>();
  /** Re-enqueues pending slots (e.g. Redis was flushed or restarted empty and lost their jobs). */
  async function reconcile() {
    const missing = await deps.store.pendingSlots(resume ?? scanned, 5_000);
    if (missing.length === 0) return;
    // Same job ids: a job still in Redis (waiting, active, failed) makes this a no-op.
    await deps.queue.enqueue(
      missing.map((s) => ({ id: liveJobId(s), data: { slots: [s], commitment, origin: "live" } })),
    );
    // A job that failed only because workers died under it too often (maxStalledCount) would hold the resume
    // point forever: retry it (bounded), for the lowest pending slots, the ones that hold the resume point.
    for (const s of missing.slice(0, 50)) {
      const job = await deps.queue.queue.getJob(liveJobId(s));
      if (!job || !/stalled more than allowable limit/.test(job.failedReason ?? "") || !(await job.isFailed()))
        continue;
      const n = (stallRetries.get(s) ?? 0) + 1;
      if (n > 5) continue;
      stallRetries.set(s, n);
      log.warn({ slot: s, retry: n }, "retrying a job that stalled out (its workers died)");
      await job.retry("failed").catch(() => {});
    }
  }

  /** Stored blocks (slot:blockhash) getBlocks leaves out that the node still serves at finalized. */
  const servedFinal = new Set<string>();

  /** Rolls back stored confirmed slots that the finalized chain does not contain; re-indexes what it does. */
  async function trackFinality() {
    if (commitment === "finalized") return;
    const fin = await deps.rpc.call<number>("getSlot", [{ commitment: "finalized" }]);
    state.finalized = fin;
    // Only slots below the resume point are all stored: a pending slot stored later must still be checked.
    let upTo = Math.min(fin, resume ?? scanned);
    // The last DEEP_REORG_WINDOW slots already checked are read again with the new ones (one getBlocks call):
    // a slot stored as finalized that the finalized chain no longer has is a fork below finality.
    const recheckFrom = Math.max(0, finalityChecked - DEEP_REORG_WINDOW + 1);
    // Listed a little past the mark too: a block getBlocks left out is on the chain when a listed block descends
    // from it (onFinalizedChain), and its child may be above the mark.
    const top = Math.max(upTo, finalityChecked);
    const listedTo = Math.min(Math.max(fin, top), top + FINALITY_LOOKAHEAD);
    const listed = await producedSlots(deps.rpc, recheckFrom, listedTo, "finalized");
    const finalizedChain = listed.filter((s) => s <= top);
    const onChain = new Set(finalizedChain);
    let links: Map<number, ChainRow> | undefined;
    /**
     * Stored slots getBlocks leaves out, judged: dropped when the listed chain above passes over them (stored links),
     * else kept only when the node still serves the block with the stored hash; undecided while it says not yet.
     */
    const judge = async (unlisted: number[]) => {
      if (unlisted.length === 0) return new Map<number, ReturnType<typeof onFinalizedChain>>();
      links ??= new Map(
        (await deps.store.chainRows(Math.min(...unlisted), listedTo, 50_000)).map((r) => [r.slot, r] as const),
      );
      const verdicts = new Map(unlisted.map((s) => [s, onFinalizedChain(s, links!, listed)] as const));
      // Passed over by the listed chain: dropped, no question asked (a fork that did not last). Otherwise the node is
      // asked whether the block is still one, with the hash stored (only for blocks getBlocks leaves out: rare).
      const ask = unlisted.filter(
        (s) => verdicts.get(s) !== "dropped" && !servedFinal.has(`${s}:${links!.get(s)?.blockhash}`),
      );
      const heads = ask.length ? await fetchBlockHeads(deps.rpc, ask, "finalized") : new Map();
      for (const s of unlisted) {
        if (verdicts.get(s) === "dropped") continue;
        const hash = links!.get(s)?.blockhash;
        if (servedFinal.has(`${s}:${hash}`)) {
          verdicts.set(s, "kept");
          continue;
        }
        const h = heads.get(s);
        if (h === "missing") verdicts.set(s, "undecided");
        else if (typeof h === "object" && h.blockhash === hash) {
          verdicts.set(s, "kept");
          servedFinal.add(`${s}:${hash}`);
          if (servedFinal.size > 1_024) servedFinal.delete(servedFinal.values().next().value!);
        } else verdicts.set(s, "dropped");
      }
      return verdicts;
    };
    const unlistedFinal = (await deps.store.finalizedBetween(recheckFrom, finalityChecked)).filter(
      (s) => !onChain.has(s),
    );
    const judgedFinal = await judge(unlistedFinal);
    const lost = unlistedFinal.filter((s) => judgedFinal.get(s) === "dropped");
    if (lost.length) throw new DeepReorgError(lost);
    if (upTo <= finalityChecked) return;
    let stored = await deps.store.slotsBetween(finalityChecked + 1, upTo);
    const judged = await judge(stored.filter((s) => s.status === "indexed" && !onChain.has(s.slot)).map((s) => s.slot));
    // A left-out block whose child is not stored yet: the finality mark waits below it.
    const undecided = [...judged].filter(([, v]) => v === "undecided").map(([s]) => s);
    if (undecided.length) {
      upTo = Math.min(...undecided) - 1;
      if (upTo <= finalityChecked) return;
      stored = stored.filter((s) => s.slot <= upTo);
    }
    const canonical = new Set(
      [...finalizedChain, ...[...judged].filter(([, v]) => v === "kept").map(([s]) => s)].filter(
        (s) => s > finalityChecked && s <= upTo,
      ),
    );
    const dropped = stored.filter((s) => s.status === "indexed" && !canonical.has(s.slot)).map((s) => s.slot);
    if (dropped.length) {
      const n = await deps.store.rollbackSlots(dropped);
      deps.metrics.rollbacks.inc(n);
      log.warn({ slots: dropped }, "rolled back confirmed slots that did not finalize");
    }
    const have = new Map(stored.map((s) => [s.slot, s.status]));
    const reindex = [...canonical].filter((s) => have.get(s) !== "indexed" && have.get(s) !== "pending");
    if (reindex.length) {
      await deps.store.forgetSlots(reindex);
      await deps.queue.enqueue(
        reindex.map((s) => ({ id: `final-${s}`, data: { slots: [s], commitment: "finalized", origin: "finality" } })),
      );
      log.warn({ slots: reindex }, "re-indexing finalized slots missing from the store");
    }
    await deps.store.markFinalized(upTo);
    log.debug(
      { from: finalityChecked + 1, to: upTo, rolled_back: dropped.length, reindexed: reindex.length },
      "finality checked",
    );
    finalityChecked = upTo;
  }

  async function loop() {
    let lastFinality = 0;
    let lastReconcile = Date.now();
    while (!signal.aborted) {
      try {
        const more = await scan();
        // Never past a block that does not chain to the one before it (checked from the stored links).
        resume = await deps.store.advanceLiveCursor(await verifiedUpTo(scanned));
        state.resumeSlot = resume;
        if (resume !== null) {
          deps.metrics.resumeSlot.set(resume);
          deps.metrics.slotsBehind.set(Math.max(0, state.tip - resume));
        }
        if (Date.now() - lastFinality >= (opts.finalityEveryMs ?? 5_000)) {
          lastFinality = Date.now();
          await trackFinality();
        }
        if (Date.now() - lastReconcile >= (opts.reconcileEveryMs ?? 15_000)) {
          lastReconcile = Date.now();
          await reconcile();
        }
        state.updatedAt = new Date().toISOString();
        if (stream) {
          const b = stream.buffered();
          state.stream = { ...stream.stats(), reconnects: stream.reconnects(), buffered: b.now, maxBuffered: b.max };
        }
        // The API's indexerStatus reads this hash (contract in api/server/event-hub.ts): decimal strings.
        const key = statusKey(config.QUEUE_PREFIX);
        const fields: Record<string, string> = {
          chainTip: String(state.tip),
          queueDepth: String(state.queueDepth),
          updatedAt: String(Date.now()),
        };
        if (state.finalized !== null) fields.finalizedSlot = String(state.finalized);
        const endpoints = endpointsOf(deps.rpc);
        if (endpoints) fields.endpoints = endpoints;
        await deps.redis
          .multi()
          .hset(key, fields)
          .expire(key, 120)
          .exec()
          .catch(() => {});
        if (more) continue;
      } catch (err) {
        if (err instanceof DeepReorgError) {
          // Halt: no more scans, rollbacks or finality marks; finalized rows stay as they are. Workers and the API
          // keep running, /health reports failed until an operator intervenes.
          state.halted = { error: "deep_reorg", slots: err.slots, message: err.message };
          log.fatal({ err, slots: err.slots }, "deep reorg below the finalized watermark; ingest halted");
          break;
        }
        log.warn({ err }, "ingest loop error; retrying");
        await sleep(1_000, signal);
      }
      // Sleep until a slot notification or the poll interval, whichever comes first.
      await sleep(opts.pollMs ?? 1_000, signal, (w) => (wake = w));
      wake = undefined;
    }
  }

  const done = loop().finally(async () => {
    await feed.close();
    await leader.release();
    log.info({ resume_slot: resume }, "live ingest stopped");
  });
  return { status: () => ({ ...state }), stop: async () => void (await done), done };
}
