/**
 * The slow lane: statements whose shape (SQL text) has recently run slowly may run only `concurrency` at a time,
 * so a flood of expensive queries (scans of an unindexed filter, big counts) queues in the API instead of taking
 * every core from the indexer's writes (reliability bar G5). Fast shapes never wait.
 * @dev a shape's speed is the quickest of its last WINDOW run times (a batch reports each statement's share): run
 * times measured from the API include queueing on a busy machine, which inflates every shape, while the quickest
 * recent run stays near the statement's own cost. The lane learns from the first slow run; a shape that has a quick
 * run again leaves it. Waiting is bounded: a request
 * waits at most `maxWaitMs` (the statement timeout) and then gets QUERY_TIMEOUT, and at most `maxQueue` wait at
 * once (more are refused at once with OVERLOADED), so the queue never holds more than it can serve.
 */
import { apiError } from "./errors.js";

/** Options of the slow lane. */
export type SlowGateOptions = { concurrency: number; slowMs?: number; maxWaitMs?: number; maxQueue?: number };

/** A shape whose quickest recent run took at least this many ms is slow (a dashboard page's statements take a few ms). */
export const SLOW_STATEMENT_MS = 100;

/** The lane: `isSlow(text)`, `observe(text, ms)` after each run, `enter(signal)` before a slow batch. */
export type SlowGate = {
  isSlow(text: string): boolean;
  observe(text: string, ms: number): void;
  /** Waits for a slot; resolves with its release function. */
  enter(signal?: AbortSignal): Promise<() => void>;
  /** Slow batches running and waiting now (metrics, tests). */
  stats(): { running: number; waiting: number };
};

/** Runs remembered per shape: a shape is slow when even the quickest of them took SLOW_STATEMENT_MS or more. */
const WINDOW = 16;

/** Most shapes remembered (the API's shapes are far fewer; past this, new shapes count as fast). */
const MAX_SHAPES = 2_000;

/** Creates the slow lane; `concurrency` 0 turns it off (nothing is ever slow). */
export function createSlowGate(opts: SlowGateOptions): SlowGate {
  const slowMs = opts.slowMs ?? SLOW_STATEMENT_MS;
  const maxWaitMs = opts.maxWaitMs ?? 5_000;
  const maxQueue = opts.maxQueue ?? 200;
  const recent = new Map<string, number[]>();
  const waiting: { grant(): void }[] = [];
  let running = 0;
  const release = () => {
    running--;
    const next = waiting.shift();
    if (next) next.grant();
  };
  return {
    isSlow: (text) => {
      const runs = opts.concurrency > 0 ? recent.get(text) : undefined;
      return runs !== undefined && Math.min(...runs) >= slowMs;
    },
    observe(text, ms) {
      let runs = recent.get(text);
      if (!runs) {
        if (recent.size >= MAX_SHAPES) return;
        recent.set(text, (runs = []));
      }
      runs.push(ms);
      if (runs.length > WINDOW) runs.shift();
    },
    enter(signal) {
      if (running < opts.concurrency) {
        running++;
        return Promise.resolve(release);
      }
      if (waiting.length >= maxQueue) return Promise.reject(apiError("OVERLOADED", "Too many slow queries are waiting; retry later."));
      return new Promise((resolve, reject) => {
        const entry = {
          grant: () => {
            clearTimeout(timer);
            signal?.removeEventListener("abort", onAbort);
            running++;
            resolve(release);
          },
        };
        const leave = (err: Error) => {
          const i = waiting.indexOf(entry);
          if (i >= 0) waiting.splice(i, 1);
          signal?.removeEventListener("abort", onAbort);
          reject(err);
        };
        const onAbort = () => {
          clearTimeout(timer);
          leave(apiError("QUERY_CANCELLED", "The request was cancelled."));
        };
        const timer = setTimeout(() => leave(apiError("QUERY_TIMEOUT", "The query waited too long for a slot among slow queries.")), maxWaitMs);
        signal?.addEventListener("abort", onAbort, { once: true });
        waiting.push(entry);
      });
    },
    stats: () => ({ running, waiting: waiting.length }),
  };
}
