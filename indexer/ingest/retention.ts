/**
 * Retention: every `everyMs`, drops the slot partitions of the raw rows that lie wholly `keepSlots` behind both the
 * live resume point and the pricing stage (RETENTION_SLOTS). Balances, holders, supply, pools, candles and prices are
 * kept in their own tables and never recomputed from the dropped rows, so they stay exact.
 * @dev idempotent, under the partition functions' advisory lock: any number of processes may run it.
 */
import type { Context } from "../../core/context.js";
import type { Store } from "../store/index.js";

/** How often retention looks for partitions to drop when not told otherwise (a partition spans about two days). */
export const RETENTION_EVERY_MS = 60_000;

/** Starts the retention loop; `stop()` ends it after the drop in flight. */
export function startRetention(
  ctx: Pick<Context, "logger" | "shutdown">,
  store: Pick<Store, "applyRetention">,
  opts: { keepSlots: number; everyMs?: number },
): { stop(): Promise<void> } {
  const log = ctx.logger.child({ stage: "retention" });
  const stopped = new AbortController();
  const loop = (async () => {
    while (!stopped.signal.aborted && !ctx.shutdown.signal.aborted) {
      try {
        const r = await store.applyRetention(opts.keepSlots);
        if (r.dropped) log.info({ horizon: r.horizon, dropped: r.dropped }, "dropped partitions past retention");
      } catch (err) {
        log.warn({ err }, "retention run failed; retrying");
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, opts.everyMs ?? RETENTION_EVERY_MS);
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
