/**
 * The ingest leader's storage upkeep, every `everyMs` and once at start: makes the slot partitions of the raw rows
 * ahead of the live resume point (its partition and the `ahead` after it), so that no writer has to make one while
 * the API reads the tables; and, with RETENTION_SLOTS, drops the partitions that lie wholly `keepSlots` behind both
 * the live resume point and the pricing stage. Balances, holders, supply, pools, candles and prices are kept in their
 * own tables and never recomputed from the dropped rows, so they stay exact.
 * @dev idempotent, under the partition functions' advisory lock: any number of processes may run it. Making a
 * partition takes its parent's exclusive lock, which a flood of long reads can keep it from getting (it gives up
 * after a few seconds); made a whole partition (about two days of mainnet) ahead, a round that fails is tried again
 * long before a writer needs the partition.
 */
import type { Context } from "../../core/context.js";
import type { Metrics } from "../../core/metrics.js";
import type { Store } from "../store/index.js";

/** How often the upkeep runs when not told otherwise (a partition spans about two days). */
export const UPKEEP_EVERY_MS = 60_000;
/** How soon a round is tried again when it could not finish (no resume point yet, a busy table). */
const RETRY_MS = 5_000;
/** Partitions made after the resume point's own: one whole partition of headroom at least, two at most. */
export const PARTITIONS_AHEAD = 2;

export type UpkeepOptions = {
  /** RETENTION_SLOTS: 0 keeps everything */
  keepSlots: number;
  everyMs?: number;
  ahead?: number;
};

type UpkeepStore = Pick<Store, "applyRetention" | "liveResumePoint" | "makePartitionsAhead">;

/**
 * One upkeep round: true when it did all it had to (false: no resume point yet). Throws what the store throws
 * (a busy table: a RetryableError).
 */
export async function upkeepOnce(
  store: UpkeepStore,
  opts: UpkeepOptions,
  metrics?: Pick<Metrics, "partitionHeadroom">,
): Promise<{ done: boolean; madeUpTo: number | null; horizon: number | null; dropped: number }> {
  const resume = await store.liveResumePoint();
  if (resume === null) return { done: false, madeUpTo: null, horizon: null, dropped: 0 };
  const madeUpTo = await store.makePartitionsAhead(resume, opts.ahead ?? PARTITIONS_AHEAD);
  metrics?.partitionHeadroom.set(madeUpTo - resume);
  const r = opts.keepSlots > 0 ? await store.applyRetention(opts.keepSlots) : { horizon: null, dropped: 0 };
  return { done: true, madeUpTo, ...r };
}

/** Starts the upkeep loop; `stop()` ends it after the round in flight. */
export function startUpkeep(
  ctx: Pick<Context, "logger" | "shutdown">,
  deps: { store: UpkeepStore; metrics: Pick<Metrics, "partitionHeadroom"> },
  opts: UpkeepOptions,
): { stop(): Promise<void> } {
  const log = ctx.logger.child({ stage: "upkeep" });
  const stopped = new AbortController();
  const loop = (async () => {
    while (!stopped.signal.aborted && !ctx.shutdown.signal.aborted) {
      let wait = opts.everyMs ?? UPKEEP_EVERY_MS;
      try {
        const r = await upkeepOnce(deps.store, opts, deps.metrics);
        if (!r.done) wait = Math.min(wait, RETRY_MS);
        if (r.dropped) log.info({ horizon: r.horizon, dropped: r.dropped }, "dropped partitions past retention");
      } catch (err) {
        wait = Math.min(wait, RETRY_MS);
        log.warn({ err }, "partition upkeep failed; retrying");
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        stopped.signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
      });
    }
  })();
  return {
    async stop() {
      stopped.abort();
      await loop;
    },
  };
}
