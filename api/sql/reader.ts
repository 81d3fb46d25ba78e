/**
 * The API's own read-only Postgres pool, and the one function every resolver's SQL goes through:
 * it applies the request's abort signal (a client that disconnects cancels its backend query), maps
 * timeouts to a coded error, and sends the statements a request issues in the same event-loop turn (the loaders
 * of sibling fields) together: one pool checkout, one write and one transaction (see batch.ts).
 */
import { createHash } from "node:crypto";
import pg from "pg";
import { type BatchStatement, runBatch } from "./batch.js";
import { apiError } from "../server/errors.js";
import type { SlowGate } from "./slow-gate.js";
import { type Fragment, compile } from "./sql.js";

/** Options of the read pool. */
export type ReadPoolOptions = { max?: number; statementTimeoutMs?: number; applicationName?: string };

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

const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID
      ? parseInt8
      : oid === TIMESTAMPTZ_OID && format !== "binary"
        ? parseTimestamptz
        : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
};

/**
 * A pool whose sessions are read-only (`default_transaction_read_only`) with a statement timeout, and whose prepared
 * statements reuse one generic plan (`plan_cache_mode`; see Reader.rows for the statements that do not).
 * @dev the API never writes; the session setting makes an accidental write fail instead of landing. Postgres' default
 * (auto) plans a prepared statement again at every execution when its generic plan looks costlier than a plan for
 * the given values, and for the loaders' `= any($1)` and `unnest($1)` statements it always does: their generic cost
 * counts ten keys where a request's has one or two. That planning cost more than running them (pool page: 1 ms of
 * planning to 0.7 ms of running the candles statement; child lists 0.1-0.2 ms to 0.05-0.1 ms), and their plan (an
 * index lookup per key) does not depend on the values.
 */
export function createReadPool(url: string, opts: ReadPoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? "slotline-api",
    statement_timeout: opts.statementTimeoutMs ?? 5_000,
    options: "-c default_transaction_read_only=on -c plan_cache_mode=force_generic_plan",
    idleTimeoutMillis: 30_000,
    types,
  });
  pool.on("error", () => {});
  return pool;
}

/** Most distinct statement texts that get a prepared-statement name (the shapes the API builds are far fewer). */
const MAX_PREPARED = 2_000;
const names = new Map<string, string>();

/**
 * The prepared-statement name of a SQL text: the backend parses and plans it once per connection, not per request.
 * @dev texts come only from code (values are parameters), so the set is bounded; past MAX_PREPARED, statements run
 * unnamed.
 */
function statementName(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_PREPARED) {
    name = `slotline_${createHash("sha1").update(text).digest("hex").slice(0, 20)}`;
    names.set(text, name);
  }
  return name;
}

/** How a statement is planned; see Reader.rows. */
export type RowsOptions = { valueSensitive?: boolean };

/** The options of a statement whose best plan depends on its values. */
export const VALUE_SENSITIVE: RowsOptions = { valueSensitive: true };

/** Runs SQL for one request; identical statements (text and values) within the request run once. */
export type Reader = {
  /**
   * The rows of `q`. A `valueSensitive` statement is one whose best plan depends on its values (a top-level list
   * filtered by a busy mint or a quiet one): Postgres plans it with its default, auto, which may plan it for the
   * values given; every other statement runs on its generic plan (createReadPool).
   */
  rows<T>(q: Fragment, opts?: RowsOptions): Promise<T[]>;
  /** Forgets the statements run so far: the same statement asked again is sent again (a subscription's next event). */
  forget(): void;
};

/**
 * Switches the rest of a batch's transaction from the session's generic plans to Postgres' default, auto, before the
 * Binds of its value-sensitive statements (`set_config(..., true)`: Postgres reverts it at the batch's Sync).
 */
const PLAN_AUTO: BatchStatement = {
  text: "select set_config('plan_cache_mode', 'auto', true) as mode",
  name: "slotline_plan_auto",
  values: [],
};

/** Sends a protocol-level cancel for the client's running query (a separate short connection, not a pool slot). */
function cancelRunning(pool: pg.Pool, client: pg.PoolClient): void {
  const c = client as unknown as { activeQuery?: unknown };
  if (!c.activeQuery) return;
  const canceller = new pg.Client((pool as unknown as { options: pg.ClientConfig }).options) as unknown as {
    cancel(client: unknown, query: unknown): void;
    connection: { on(ev: string, fn: () => void): void };
  };
  canceller.connection.on("error", () => {});
  canceller.cancel(client, c.activeQuery);
}

type Pending = {
  text: string;
  values: unknown[];
  valueSensitive: boolean;
  resolve(rows: unknown[]): void;
  reject(err: unknown): void;
};

/** Answers the statements of a request that was aborted before they left. */
function cancel(batch: readonly Pending[]): void {
  for (const p of batch) p.reject(apiError("QUERY_CANCELLED", "The request was cancelled."));
}

/**
 * Maps a failed statement to the API's coded errors (57014 is query_canceled: our own cancel, or statement_timeout).
 */
function mapError(err: unknown, signal: AbortSignal | undefined): unknown {
  if ((err as { code?: string }).code !== "57014") return err;
  if (signal?.aborted) return apiError("QUERY_CANCELLED", "The request was cancelled.");
  return apiError("QUERY_TIMEOUT", "The query took too long and was stopped.");
}

/**
 * A reader bound to one request: its abort signal and a per-statement hook (metrics).
 * @dev statements are queued and sent at setImmediate: DataLoader dispatches sibling batches in the same turn
 * (process.nextTick), so a page's independent reads share one checkout and one write instead of one each.
 */
export function createReader(
  pool: pg.Pool,
  opts: { signal?: AbortSignal; onStatement?: (ms: number) => void; gate?: SlowGate } = {},
): Reader {
  const { gate } = opts;
  const { signal } = opts;
  let queue: Pending[] = [];
  const sent = new Map<string, Map<string, Promise<unknown[]>>>();
  const flush = () => {
    const batch = queue;
    queue = [];
    // (a request aborted meanwhile is answered where its batch would leave: runAlone, or its group's send)
    const slow = gate !== undefined && batch.some((p) => gate.isSlow(p.text));
    // A shape that ran slowly by the API's clock is timed on the server's (batch.ts) before the lane takes it.
    const clock = gate !== undefined && !slow && batch.some((p) => gate.wantsClock(p.text));
    // Only statements of shapes known to be quick join other requests' (a slow one would hold them all up).
    if (gate && !slow && !clock && batch.every((p) => gate.isQuick(p.text))) {
      groupsOf(pool).add({
        batch,
        signal,
        gate,
        onStatement: opts.onStatement,
        alone: () => void runAlone(batch, false, false),
      });
    } else void runAlone(batch, slow, clock);
  };
  /** Runs a batch on a connection of its own (slow ones through the lane), cancelling its query if the request is. */
  const runAlone = async (batch: Pending[], slow: boolean, clock: boolean) => {
    if (signal?.aborted) return cancel(batch);
    // A batch with a statement of a slow shape waits for a slot in the slow lane before it takes a connection.
    let leave: (() => void) | undefined;
    let client: pg.PoolClient;
    try {
      if (gate && slow) leave = await gate.enter(signal);
      client = await pool.connect();
    } catch (err) {
      leave?.();
      for (const p of batch) p.reject(err);
      return;
    }
    const onAbort = () => cancelRunning(pool, client);
    signal?.addEventListener("abort", onAbort, { once: true });
    const started = performance.now();
    let broken: Error | undefined;
    let batched = false;
    try {
      if (batch.length === 1 && !clock && !batch[0]!.valueSensitive) {
        const p = batch[0]!;
        const r = await client.query({ text: p.text, values: p.values, name: statementName(p.text) });
        gate?.observe(p.text, performance.now() - started);
        p.resolve(r.rows);
      } else {
        batched = true;
        await runStatements(client, batch, () => gate, clock);
      }
      opts.onStatement?.(performance.now() - started);
    } catch (err) {
      // After a failed batch the connection's record of parsed statement names may be wrong: drop the connection.
      if (batched) broken = err as Error;
      const mapped = mapError(err, signal);
      for (const p of batch) p.reject(mapped);
    } finally {
      signal?.removeEventListener("abort", onAbort);
      client.release(broken);
      leave?.();
    }
  };
  return {
    rows<T>(q: Fragment, opts?: RowsOptions): Promise<T[]> {
      if (signal?.aborted) return Promise.reject(apiError("QUERY_CANCELLED", "The request was cancelled."));
      const { text, values } = compile(q);
      // The same statement twice in one request (a prefetch, then the resolver it was for) is sent once. Keyed by
      // text, then values: no concatenated copy of the (long) text to hash per call.
      const key = JSON.stringify(values);
      let byValues = sent.get(text);
      if (!byValues) sent.set(text, (byValues = new Map()));
      let p = byValues.get(key);
      if (!p) {
        p = new Promise<unknown[]>((resolve, reject) => {
          if (queue.push({ text, values, valueSensitive: opts?.valueSensitive === true, resolve, reject }) === 1)
            setImmediate(() => void flush());
        });
        byValues.set(key, p);
      }
      return p as Promise<T[]>;
    },
    forget() {
      sent.clear();
    },
  };
}

/**
 * Runs `batch` (statements of one request, or of several) on `client` as one pipeline (batch.ts): the statements on
 * generic plans (the session's mode) first, then, if any, the switch to auto and the value-sensitive ones: one extra
 * statement at most, in the same write. The batch is one snapshot, so the order does not change what a statement
 * reads. Resolves each statement's promise and tells the lane its time.
 */
async function runStatements(
  client: pg.PoolClient,
  batch: readonly Pending[],
  gateOf: (p: Pending) => SlowGate | undefined,
  clock: boolean,
): Promise<void> {
  const generic = batch.filter((p) => !p.valueSensitive);
  const sensitive = batch.filter((p) => p.valueSensitive);
  const ordered = [...generic, ...sensitive];
  const statement = (p: Pending): BatchStatement => ({
    text: p.text,
    values: p.values,
    name: statementName(p.text) ?? "",
  });
  const statements = [
    ...generic.map(statement),
    ...(sensitive.length > 0 ? [PLAN_AUTO] : []),
    ...sensitive.map(statement),
  ];
  const results = await runBatch(client, statements, types, clock);
  ordered.forEach((p, i) => {
    const j = i < generic.length ? i : i + 1;
    const gate = gateOf(p);
    if (results.serverMs) gate?.observe(p.text, results.serverMs[j]!, true);
    // By the API's clock a statement's time runs from the previous one's completion, and Postgres sends the
    // switch's answer with the next statement's: the switch's time is that statement's.
    else gate?.observe(p.text, (results.ms[j] ?? 0) + (statements[j - 1] === PLAN_AUTO ? (results.ms[j - 1] ?? 0) : 0));
    p.resolve(results.rows[j] ?? []);
  });
}

/** One request's batch waiting to be sent with others'; `alone` runs it by itself (after its group failed). */
type GroupedBatch = {
  batch: Pending[];
  signal?: AbortSignal;
  gate: SlowGate;
  onStatement?: (ms: number) => void;
  alone(): void;
};

/** Most requests' batches sent in one pipeline. */
const MAX_GROUP = 8;

/**
 * The requests' batches of quick statements that became ready in the same event-loop turn leave together, up to
 * MAX_GROUP requests per pipeline: one connection, one write, one Sync and one wake-up of a backend for all of them
 * (each request's statements still read one snapshot). Most of a quick statement's cost is the round trip around it,
 * not its run: on the bench's token page under 64 clients, Postgres' CPU per page fell from 0.31 to 0.14 ms and the
 * API answered 40-50% more pages a second.
 * @dev a failed pipeline (Postgres skips the rest of it after an error) is run again one request at a time, so each
 * request gets its own rows or its own error. Only shapes the slow lane knows to be quick are grouped, so no request
 * waits behind a slow one; a request aborted while its group runs is not cancelled on the server (its statements
 * are quick), its answer is dropped.
 */
function groupsOf(pool: pg.Pool): { add(g: GroupedBatch): void } {
  let groups = groupers.get(pool);
  if (groups) return groups;
  let waiting: GroupedBatch[] = [];
  const send = () => {
    const ready = waiting.filter((g) => {
      if (g.signal?.aborted) cancel(g.batch);
      return !g.signal?.aborted;
    });
    waiting = [];
    for (let i = 0; i < ready.length; i += MAX_GROUP) void runGroup(pool, ready.slice(i, i + MAX_GROUP));
  };
  groups = {
    add(g) {
      if (waiting.push(g) === 1) setImmediate(send);
    },
  };
  groupers.set(pool, groups);
  return groups;
}

const groupers = new WeakMap<pg.Pool, { add(g: GroupedBatch): void }>();

async function runGroup(pool: pg.Pool, group: GroupedBatch[]): Promise<void> {
  if (group.length === 1) return group[0]!.alone();
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch {
    for (const g of group) g.alone();
    return;
  }
  const started = performance.now();
  try {
    const gates = new Map<Pending, SlowGate>();
    for (const g of group) for (const p of g.batch) gates.set(p, g.gate);
    await runStatements(
      client,
      group.flatMap((g) => g.batch),
      (p) => gates.get(p),
      false,
    );
    client.release();
  } catch (err) {
    // The connection's record of parsed statement names may be wrong after a failed batch: drop it.
    client.release(err as Error);
    for (const g of group) g.alone();
    return;
  }
  const ms = performance.now() - started;
  for (const g of group) g.onStatement?.(ms);
}
