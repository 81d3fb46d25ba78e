/**
 * The API's own read-only Postgres pool, and how its rows are typed: int8 as numbers, numeric as decimal strings,
 * timestamptz as Dates (read by a parser without a regular expression).
 */
import pg from "pg";
import { apiError } from "../errors.js";

/**
 * How the API's statements reach Postgres: `pipelined` (pipeline.ts: the statements of requests ready at once grouped
 * into pipelines on pg's protocol, a slow lane for expensive shapes) or `plain` (plain.ts: one ordinary query each).
 */
export type SqlMode = "pipelined" | "plain";

/** Options of the read pool; `mode` must be the mode of the read path over it (createReadPath). */
export type ReadPoolOptions = {
  max?: number;
  statementTimeoutMs?: number;
  applicationName?: string;
  mode?: SqlMode;
  /** checkouts that may wait for a connection at once; past it a checkout fails with OVERLOADED (default 500) */
  maxWaiting?: number;
  /** how long a new connection may take (default: no limit); a replica's is bounded, so a lost host fails fast */
  connectTimeoutMs?: number;
};

/** Default of ReadPoolOptions.maxWaiting (API_DB_MAX_WAITING). */
export const DEFAULT_MAX_WAITING = 500;

// int8 columns are slots, indexes and counts: all far below 2^53, so numbers. numeric (amounts) stays a
// decimal string, which is what the BigInt scalar sends.
const INT8_OID = 20;
const TIMESTAMPTZ_OID = 1184;
const parseInt8 = (v: string) => Number(v);
const parseTimestamptzSlow = pg.types.getTypeParser(TIMESTAMPTZ_OID, "text") as (v: string) => Date | number | null;

/** Digits of `s` in [from, to) as a number; NaN if any is not a digit. */
function digits(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    n = n * 10 + d;
  }
  return n;
}

/**
 * timestamptz text as Postgres writes it in ISO DateStyle (`2025-04-09 04:54:22.5+00`, any offset `+hh`, `+hh:mm`,
 * `+hh:mm:ss`) read without a regular expression or match array (block times are in most rows the API reads);
 * anything else (BC, infinity, years past 9999) goes to pg's own parser.
 */
export function parseTimestamptz(s: string): Date | number | null {
  const ok =
    s.length >= 22 &&
    s.charCodeAt(4) === 45 &&
    s.charCodeAt(7) === 45 &&
    s.charCodeAt(10) === 32 &&
    s.charCodeAt(13) === 58 &&
    s.charCodeAt(16) === 58;
  if (!ok) return parseTimestamptzSlow(s);
  let i = 19;
  let ms = 0;
  if (s.charCodeAt(i) === 46) {
    // fraction: up to 6 digits; milliseconds are the first 3 (Date's precision, as pg's parser keeps)
    let j = i + 1;
    for (let scale = 100; j < s.length && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57; j++, scale /= 10)
      if (scale >= 1) ms += (s.charCodeAt(j) - 48) * scale;
    i = j;
  }
  const sign = s.charCodeAt(i);
  if ((sign !== 43 && sign !== 45) || s.length < i + 3) return parseTimestamptzSlow(s);
  let offset = digits(s, i + 1, i + 3) * 3600;
  let k = i + 3;
  if (k < s.length) {
    if (s.charCodeAt(k) !== 58 || s.length < k + 3) return parseTimestamptzSlow(s);
    offset += digits(s, k + 1, k + 3) * 60;
    k += 3;
    if (k < s.length) {
      if (s.charCodeAt(k) !== 58 || s.length !== k + 3) return parseTimestamptzSlow(s);
      offset += digits(s, k + 1, k + 3);
    }
  }
  const t = Date.UTC(
    digits(s, 0, 4),
    digits(s, 5, 7) - 1,
    digits(s, 8, 10),
    digits(s, 11, 13),
    digits(s, 14, 16),
    digits(s, 17, 19),
    ms,
  );
  if (Number.isNaN(t) || Number.isNaN(offset)) return parseTimestamptzSlow(s);
  // Date.UTC maps years 0..99 to 1900..1999; those are rare enough to leave to pg's parser.
  if (digits(s, 0, 4) < 100) return parseTimestamptzSlow(s);
  return new Date(t - (sign === 43 ? offset : -offset) * 1000);
}

/** The type parsers of the read pool's connections (both modes: the rows are the same whichever path they take). */
export const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID
      ? parseInt8
      : oid === TIMESTAMPTZ_OID && format !== "binary"
        ? parseTimestamptz
        : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
};

/**
 * A pool whose sessions are read-only (`default_transaction_read_only`) with a statement timeout. For the pipelined
 * mode its prepared statements also reuse one generic plan (`plan_cache_mode`; see Reader.rows for the statements that
 * do not); in plain mode Postgres plans each (unnamed) statement as it always does.
 * @dev the API never writes; the session setting makes an accidental write fail instead of landing. Postgres' default
 * (auto) plans a prepared statement again at every execution when its generic plan looks costlier than a plan for
 * the given values, and for the loaders' `= any($1)` and `unnest($1)` statements it always does: their generic cost
 * counts ten keys where a request's has one or two. That planning cost more than running them (pool page: 1 ms of
 * planning to 0.7 ms of running the candles statement; child lists 0.1-0.2 ms to 0.05-0.1 ms), and their plan (an
 * index lookup per key) does not depend on the values.
 */
export function createReadPool(url: string, opts: ReadPoolOptions = {}): pg.Pool {
  const generic = (opts.mode ?? "pipelined") === "pipelined" ? " -c plan_cache_mode=force_generic_plan" : "";
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? "slotline-api",
    statement_timeout: opts.statementTimeoutMs ?? 5_000,
    options: `-c default_transaction_read_only=on${generic}`,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 0,
    types,
  });
  pool.on("error", () => {});
  // pg's wait queue has no bound: under a flood every request would wait in it (holding its memory) for a connection
  // it gets too late. Past maxWaiting a checkout fails at once; pool.query goes through connect too.
  const maxWaiting = opts.maxWaiting ?? DEFAULT_MAX_WAITING;
  const connect = pool.connect.bind(pool) as (cb?: (err: Error) => void) => unknown;
  (pool as { connect: unknown }).connect = (cb?: (err: Error) => void) => {
    if (pool.waitingCount < maxWaiting) return connect(cb);
    const err = apiError("OVERLOADED", "The database is busy; retry later.");
    if (!cb) return Promise.reject(err);
    process.nextTick(() => cb(err));
  };
  return pool;
}
