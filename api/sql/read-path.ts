/** The read path: one per API, in the configured mode, making a Reader per request. */
import type pg from "pg";
import { createPipelinedReader } from "./pipeline.js";
import { createPlainReader } from "./plain.js";
import type { SqlMode } from "./pool.js";
import { type ReadPools, sourceOf } from "./replicas.js";
import type { Reader, StatementMemo } from "./reader.js";
import { createSlowGate } from "./slow-gate.js";

/** Options of the read path. */
export type ReadPathOptions = {
  /** default pipelined (API_SQL_MODE) */
  mode?: SqlMode;
  /** slow statements running at once in the pipelined mode's slow lane; 0: no lane (API_SLOW_QUERY_CONCURRENCY) */
  slowQueryConcurrency?: number;
  /** how long a slow statement may wait for the lane (default 5 s) */
  slowQueryMaxWaitMs?: number;
};

/**
 * What a request's reader reports: its abort signal, and the time of each statement (or batch) it sent (metrics);
 * `memo`: statements shared with other readers (a statement one of them sent is answered to all; give such readers no
 * signal, or one reader's abort would cancel the others' answer).
 */
export type RequestReadOptions = { signal?: AbortSignal; onStatement?: (ms: number) => void; memo?: StatementMemo };

/** The API's read path: one per API, a Reader per request. */
export type ReadPath = {
  reader(opts: RequestReadOptions): Reader;
  /** The slow lane's slots held (running or resting) and batches waiting (metrics); always zero in plain mode. */
  slowLane(): { running: number; waiting: number };
};

const IDLE = { running: 0, waiting: 0 };

/**
 * The read path over `pool` (a createReadPool of the same mode), or over read pools that pick primary or replica per
 * checkout (createReadPools), in the mode asked for.
 */
export function createReadPath(pool: pg.Pool | ReadPools, opts: ReadPathOptions = {}): ReadPath {
  const source = "primary" in pool ? pool : sourceOf(pool);
  if (opts.mode === "plain") return { reader: (o) => createPlainReader(source, o), slowLane: () => IDLE };
  const gate = createSlowGate({ concurrency: opts.slowQueryConcurrency ?? 1, maxWaitMs: opts.slowQueryMaxWaitMs });
  return {
    reader: (o) => createPipelinedReader(source, { signal: o.signal, onStatement: o.onStatement, gate, memo: o.memo }),
    slowLane: gate.stats,
  };
}
