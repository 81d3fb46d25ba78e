/**
 * The slow lane: statements whose shape has recently run slowly, or has not been measured yet, may run only
 * `concurrency` at a time, so a flood of expensive queries (scans of an unindexed filter, big counts) queues in the
 * API instead of taking every core from the indexer's writes (reliability bar G5). Shapes known to be fast never wait.
 * @dev a shape is a statement's text with its select lists left out (shapeOf): the list, its filter set, its ordering
 * and cursor side, never a value (values are parameters). A client that varies which fields it reads, or which
 * filters it passes, thus meets shapes the lane has measured, or new ones that are gated and clocked on their first
 * run; the shapes remembered are bounded (least recently run forgotten first).
 * @dev a shape's speed is the quickest of its last WINDOW samples. Run times measured in the API include the event
 * loop's delay and queueing on a busy machine: under a load of fast pages every statement "takes" 10-30 ms there,
 * though Postgres spends about 1 ms on it. So a run time under the threshold counts as a sample (an upper bound of
 * the statement's cost), while a run at or over it only nominates the shape: its next batch (then every
 * CLOCK_EVERY-th while it stays slow by wall time) is clocked, with `clock_timestamp()` read by Postgres between the
 * statements (batch.ts), and that server-side time is the sample. The lane learns from the first clocked slow run;
 * a shape that has a quick run again leaves it.
 * A slot is busy at most `duty` of the time: after a batch that held it for t ms it rests
 * t x (1 - duty) / duty ms before the next waiter gets it, so with concurrency 1 and duty 1/3 slow statements take
 * at most a third of a core of Postgres however many arrive (at 1/2 the bench's writes under a flood varied down to
 * 0.66x of idle; at 1/3 they stayed within 0.90-1.00x). Waiting is bounded: a request
 * waits at most `maxWaitMs` (the statement timeout) and then gets QUERY_TIMEOUT, and at most `maxQueue` wait at
 * once (more are refused at once with OVERLOADED), so the queue never holds more than it can serve.
 */
import { apiError } from "../errors.js";

/** Options of the slow lane. */
export type SlowGateOptions = {
  concurrency: number;
  slowMs?: number;
  maxWaitMs?: number;
  maxQueue?: number;
  duty?: number;
  /** shapes remembered (default MAX_SHAPES) */
  maxShapes?: number;
};

/**
 * A shape whose quickest recent run took at least this many ms is slow. A dashboard page's statements run on an index
 * in about 1 ms (the bench's pages: every statement under 1.5 ms); a scan of an unindexed filter over 75k swaps takes
 * 12 ms on a quiet 2-core machine, and it grows with the table.
 */
export const SLOW_STATEMENT_MS = 10;

/** Default share of wall time a slow slot may be busy. */
export const SLOW_LANE_DUTY = 1 / 3;

/**
 * The lane: `isSlow(text)` and `wantsClock(text)` before a batch, `observe(text, ms, clocked)` after, `enter(signal)`
 * before a slow batch.
 */
export type SlowGate = {
  isSlow(text: string): boolean;
  /** Whether the shape has run and its quickest recent run was quick (known not to be slow; lane on or off). */
  isQuick(text: string): boolean;
  /** Whether the next batch with this statement should be clocked on the server (counts the request). */
  wantsClock(text: string): boolean;
  /** A run time: from the API's clock (`clocked` false) or from Postgres' own (`clocked` true). */
  observe(text: string, ms: number, clocked?: boolean): void;
  /** Waits for a slot; resolves with its release function. */
  enter(signal?: AbortSignal): Promise<() => void>;
  /** Slots held (running or resting) and batches waiting now (metrics, tests). */
  stats(): { running: number; waiting: number };
};

/**
 * Samples remembered per shape: a shape is slow when even the quickest of them took SLOW_STATEMENT_MS or more.
 * Few: server-clocked samples carry no event-loop delay, and a shape whose table grew should not need many
 * clocked batches (one in CLOCK_EVERY) to enter the lane.
 */
const WINDOW = 4;

/** While a shape stays slow by wall time, every this many of its batches is clocked on the server. */
const CLOCK_EVERY = 8;

type Shape = { samples: number[]; nominated: boolean; sinceClock: number };

/**
 * Most shapes remembered: the API builds a few hundred (lists x filter sets x cursor sides). Past this the least
 * recently run is forgotten, and counts as unmeasured (slow) again.
 */
export const MAX_SHAPES = 2_000;

/** Most statement texts whose shape is remembered (texts vary with the columns a query reads; shapes do not). */
const MAX_TEXTS = 4_000;

/** A select list: from `select` to the first `from` after it (a subquery's own list is matched on its own). */
const SELECT_LIST = /\bselect\s[\s\S]*?\sfrom\s/g;

/**
 * The shape of a statement's text: every select list replaced by `*`. What a statement reads, the list and its
 * conditions, stays; the columns it selects, which each query picks (page.ts selectFor), do not make a new shape.
 * @dev deterministic for a given text, which is all the lane needs: a select list holding `from` (none does today)
 * would only keep its tail in the shape, making more shapes, never merging two filter sets.
 */
export function shapeOf(text: string): string {
  return text.replace(SELECT_LIST, "select * from ");
}

/** Creates the slow lane; `concurrency` 0 turns it off (nothing is ever slow). */
export function createSlowGate(opts: SlowGateOptions): SlowGate {
  const slowMs = opts.slowMs ?? SLOW_STATEMENT_MS;
  const maxWaitMs = opts.maxWaitMs ?? 5_000;
  const maxQueue = opts.maxQueue ?? 200;
  // Both maps keep insertion order: the first key is the least recently touched (shapes) or oldest (texts).
  const shapes = new Map<string, Shape>();
  const maxShapes = opts.maxShapes ?? MAX_SHAPES;
  const texts = new Map<string, string>();
  /** The shape of `text`, remembered for the hot path (a map lookup, not a regex, per statement). */
  const keyOf = (text: string): string => {
    let key = texts.get(text);
    if (key === undefined) {
      key = shapeOf(text);
      if (texts.size >= MAX_TEXTS) texts.delete(texts.keys().next().value!);
      texts.set(text, key);
    }
    return key;
  };
  const duty = opts.duty ?? SLOW_LANE_DUTY;
  const waiting: { grant(): void }[] = [];
  let running = 0;
  const free = () => {
    running--;
    const next = waiting.shift();
    if (next) next.grant();
  };
  /** The release function of a slot taken now: the slot frees after its rest (at once when duty is 1). */
  const take = (): (() => void) => {
    running++;
    const since = performance.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const rest = ((performance.now() - since) * (1 - duty)) / duty;
      if (rest < 1) free();
      else setTimeout(free, rest).unref();
    };
  };
  return {
    // Unmeasured (no sample yet) is slow: a shape's first run must not pass the lane just for being new.
    isSlow: (text) => {
      if (opts.concurrency <= 0) return false;
      const runs = shapes.get(keyOf(text))?.samples;
      return runs === undefined || runs.length === 0 || Math.min(...runs) >= slowMs;
    },
    isQuick: (text) => {
      const runs = shapes.get(keyOf(text))?.samples;
      return runs !== undefined && runs.length > 0 && Math.min(...runs) < slowMs;
    },
    wantsClock(text) {
      if (opts.concurrency <= 0) return false;
      const shape = shapes.get(keyOf(text));
      // An unmeasured shape is clocked until a run of it is: its first sample carries no event-loop delay.
      if (!shape || shape.samples.length === 0) return true;
      if (!shape.nominated || ++shape.sinceClock < CLOCK_EVERY) return false;
      shape.sinceClock = 0;
      return true;
    },
    observe(text, ms, clocked = false) {
      const key = keyOf(text);
      let shape = shapes.get(key);
      // Re-inserted at the end: the shapes that keep running are the last to be forgotten.
      if (shape) shapes.delete(key);
      else {
        if (shapes.size >= maxShapes) shapes.delete(shapes.keys().next().value!);
        shape = { samples: [], nominated: false, sinceClock: 0 };
      }
      shapes.set(key, shape);
      if (!clocked) shape.nominated = ms >= slowMs;
      if (clocked || ms < slowMs) {
        shape.samples.push(ms);
        if (shape.samples.length > WINDOW) shape.samples.shift();
      }
    },
    enter(signal) {
      if (running < opts.concurrency) return Promise.resolve(take());
      if (waiting.length >= maxQueue)
        return Promise.reject(apiError("OVERLOADED", "Too many slow queries are waiting; retry later."));
      return new Promise((resolve, reject) => {
        const entry = {
          grant: () => {
            clearTimeout(timer);
            signal?.removeEventListener("abort", onAbort);
            resolve(take());
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
        const timer = setTimeout(
          () => leave(apiError("QUERY_TIMEOUT", "The query waited too long for a slot among slow queries.")),
          maxWaitMs,
        );
        signal?.addEventListener("abort", onAbort, { once: true });
        waiting.push(entry);
      });
    },
    stats: () => ({ running, waiting: waiting.length }),
  };
}
