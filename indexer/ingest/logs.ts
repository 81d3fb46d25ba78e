/**
 * Logs mode (`INGEST_MODE=logs`, for RPC plans without getBlock): one `mentions` logs subscription per tracked
 * program feeds signatures; they are enqueued in batches for the workers (batched getTransaction). A sweep with
 * getSignaturesForAddress per program fills whatever notifications were missed (a dropped or stalled socket).
 * @dev the sweep's per-program cursor (`cursors` id `logs-<program>`) only advances over signatures that are
 * stored, so a crash or lost job is swept again; duplicate notifications are harmless (stored ones are skipped,
 * job ids are content hashes).
 */
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import type { Context } from "../../core/context.js";
import type { Metrics } from "../../core/metrics.js";
import { type BlockQueue, MAX_SIGNATURES_PER_JOB } from "../queue/index.js";
import { statusKey } from "../../core/events.js";
import type { Store } from "../store/index.js";
import { INGEST_LEADER_KEY, acquireLeadership } from "./leader.js";
import { endpointsOf } from "./live.js";
import type { RpcClient } from "../source/index.js";
import { createSlotFeed } from "../source/index.js";

type SignatureInfo = { signature: string; slot: number; err: unknown };

/** At most this many pages (1,000 signatures each) per program per sweep; the next sweep continues. */
const MAX_SWEEP_PAGES = 20;

/** Job id of a signature batch: a hash of its content, so re-enqueueing the same batch is a no-op. */
export const signatureJobId = (sigs: string[]) =>
  `sigs-${createHash("sha1")
    .update([...sigs].sort().join(","))
    .digest("hex")}`;

/** Waits for leadership, then follows the programs' logs until the shutdown signal. */
export async function startLogsIngest(
  ctx: Pick<Context, "config" | "logger" | "db" | "shutdown">,
  deps: { rpc: RpcClient; store: Store; queue: BlockQueue; metrics: Metrics; redis: Redis; programs: string[] },
  opts: { pollMs?: number; sweepMs?: number; stallMs?: number; batchSize?: number } = {},
): Promise<{ done: Promise<void>; stop(): Promise<void> }> {
  const { config } = ctx;
  const log = ctx.logger.child({ stage: "ingest", mode: "logs" });
  const signal = ctx.shutdown.signal;
  const batchSize = Math.min(opts.batchSize ?? config.RPC_BATCH_SIZE, MAX_SIGNATURES_PER_JOB);
  const leader = await acquireLeadership({
    url: config.DATABASE_URL,
    key: INGEST_LEADER_KEY,
    logger: log,
    signal,
    onLost: () => void ctx.shutdown.kill("leadership lost"),
  });
  if (!leader) return { done: Promise.resolve(), stop: async () => {} };

  const pending = new Set<string>();
  const feed = createSlotFeed({
    rpcUrl: config.SOLANA_RPC_URL,
    wsUrl: config.SOLANA_WS_URL,
    stallMs: opts.stallMs ?? config.WS_STALL_MS,
    logger: log,
    metrics: deps.metrics,
    onSlot: (slot) => void deps.metrics.chainTip.set(slot),
    logs: { programs: deps.programs, onLogs: (sig) => void pending.add(sig) },
  });

  async function enqueue(signatures: string[]) {
    const todo = await deps.store.unstoredSignatures([...new Set(signatures)]);
    const jobs = [];
    for (let i = 0; i < todo.length; i += batchSize) {
      const sigs = todo.slice(i, i + batchSize);
      jobs.push({
        id: signatureJobId(sigs),
        data: { slots: [], signatures: sigs, commitment: "confirmed" as const, origin: "logs" },
      });
    }
    await deps.queue.enqueue(jobs);
    return todo.length;
  }

  const cursorOf = (program: string) => deps.store.cursorPosition(`logs-${program}`);
  const setCursor = (program: string, position: string) => deps.store.setCursorPosition(`logs-${program}`, position);

  /**
   * A sweep cut short by MAX_SWEEP_PAGES: the newest signature it listed and the oldest, so the next sweep goes on
   * below the oldest down to the cursor before the cursor moves (moving it to the newest at once would leave the
   * signatures between the last page and the cursor unswept for good).
   */
  const partial = new Map<string, { newest: string; before: string }>();

  /**
   * One program: signatures newer than its cursor; enqueue what is unstored; advance when all are stored. True when
   * every signature of the program up to the listing is stored (its cursor is at the newest).
   */
  async function sweep(program: string): Promise<boolean> {
    const cursor = await cursorOf(program);
    if (cursor === null) {
      // First run: follow from now (history is the backfill command's job). A program with no signature yet
      // gets the empty cursor: everything it will ever have is new.
      const newest = await deps.rpc.call<SignatureInfo[]>("getSignaturesForAddress", [
        program,
        { limit: 1, commitment: "confirmed" },
      ]);
      await setCursor(program, newest[0]?.signature ?? "");
      return true;
    }
    const until = cursor === "" ? undefined : cursor;
    const found: SignatureInfo[] = [];
    const resume = partial.get(program);
    let before: string | undefined = resume?.before;
    let complete = false;
    for (let page = 0; page < MAX_SWEEP_PAGES; page++) {
      const res = await deps.rpc.call<SignatureInfo[]>("getSignaturesForAddress", [
        program,
        { until, before, limit: 1000, commitment: "confirmed" },
      ]);
      if (!Array.isArray(res)) throw new Error("getSignaturesForAddress: expected an array");
      found.push(...res);
      if (res.length < 1000) {
        complete = true;
        break;
      }
      before = res[res.length - 1]!.signature;
    }
    const newest = resume?.newest ?? found[0]?.signature;
    const missing = found.length ? await enqueue(found.map((f) => f.signature)) : 0;
    if (missing > 0) {
      log.info(
        { program_id: program, missing },
        "sweep found signatures the subscription missed or that are not stored yet",
      );
      return false;
    }
    if (!complete) {
      // Stored down to `before`: the next sweep lists what lies below it.
      partial.set(program, { newest: newest!, before: before! });
      return false;
    }
    partial.delete(program);
    // Everything newer than the cursor is stored: the newest becomes the cursor.
    if (newest !== undefined) await setCursor(program, newest);
    return true;
  }

  /**
   * One sweep of every program. When all are complete, every tracked transaction at or below the confirmed slot read
   * before the sweep is stored: the live cursor moves there, and the pricing stage follows it as it follows block
   * mode's resume point (a transaction stored later below the pricing cursor rewinds it: store/pricing.ts).
   */
  async function sweepAll() {
    const tip = await deps.rpc.call<number>("getSlot", [{ commitment: "confirmed" }]);
    let complete = true;
    for (const p of deps.programs) if (!(await sweep(p))) complete = false;
    if (!complete || !Number.isSafeInteger(tip)) return;
    await deps.store.initLiveCursor(tip);
    await deps.store.advanceLiveCursor(tip);
  }

  async function loop() {
    let lastSweep = 0;
    while (!signal.aborted) {
      try {
        if (pending.size) {
          const sigs = [...pending];
          pending.clear();
          await enqueue(sigs);
        }
        if (Date.now() - lastSweep >= (opts.sweepMs ?? 5_000)) {
          lastSweep = Date.now();
          await sweepAll();
          const depth = await deps.queue.depth();
          deps.metrics.queueDepth.set(depth);
          const key = statusKey(config.QUEUE_PREFIX);
          const endpoints = endpointsOf(deps.rpc);
          await deps.redis
            .multi()
            .hset(key, {
              queueDepth: String(depth),
              updatedAt: String(Date.now()),
              ...(endpoints ? { endpoints } : {}),
            })
            .expire(key, 120)
            .exec()
            .catch(() => {});
        }
      } catch (err) {
        log.warn({ err }, "logs ingest loop error; retrying");
      }
      await new Promise<void>((r) => {
        const t = setTimeout(done, opts.pollMs ?? config.INGEST_POLL_MS);
        function done() {
          clearTimeout(t);
          signal.removeEventListener("abort", done);
          r();
        }
        signal.addEventListener("abort", done, { once: true });
      });
    }
  }

  log.info({ programs: deps.programs.length }, "logs ingest starting");
  const done = loop().finally(async () => {
    await feed.close();
    await leader.release();
    log.info("logs ingest stopped");
  });
  return { done, stop: async () => void (await done) };
}
