/**
 * The pipelined mode of the read path: a request's statements issued in the same event-loop turn (the loaders of
 * sibling fields) leave together, on one pool checkout, in one write and one transaction (batch.ts); the quick
 * statements of requests ready at once share a pipeline (groupsOf); statements of shapes that run slowly wait for the
 * slow lane (slow-gate.ts). A request that is aborted cancels its backend query with a protocol-level cancel.
 */
import { createHash } from "node:crypto";
import pg from "pg";
import { type BatchStatement, runBatch } from "./batch.js";
import { types } from "./pool.js";
import { type Pending, type Reader, type StatementMemo, cancelled, mapError, memoReader } from "./reader.js";
import { type ReadSource, sourceOf } from "./replicas.js";
import type { SlowGate } from "./slow-gate.js";

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

/** Answers the statements of a request that was aborted before they left. */
function cancel(batch: readonly Pending[]): void {
  for (const p of batch) p.reject(cancelled());
}

/**
 * A reader bound to one request: its abort signal and a per-statement hook (metrics).
 * @dev statements are queued and sent at setImmediate: DataLoader dispatches sibling batches in the same turn
 * (process.nextTick), so a page's independent reads share one checkout and one write instead of one each.
 */
export function createPipelinedReader(
  from: pg.Pool | ReadSource,
  opts: { signal?: AbortSignal; onStatement?: (ms: number) => void; gate?: SlowGate; memo?: StatementMemo } = {},
): Reader {
  const { gate } = opts;
  const { signal } = opts;
  const source = sourceOf(from);
  let queue: Pending[] = [];
  const flush = () => {
    const batch = queue;
    queue = [];
    // (a request aborted meanwhile is answered where its batch would leave: runAlone, or its group's send)
    const slow = gate !== undefined && batch.some((p) => gate.isSlow(p.text));
    // A shape that ran slowly by the API's clock is timed on the server's (batch.ts) before the lane takes it; one not
    // measured yet runs in the lane and is timed there, so its first sample is Postgres' own time.
    const clock = gate !== undefined && batch.some((p) => gate.wantsClock(p.text));
    // Only statements of shapes known to be quick join other requests' (a slow one would hold them all up).
    if (gate && !slow && !clock && batch.every((p) => gate.isQuick(p.text))) {
      groupsOf(source).add({
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
    let pool: pg.Pool;
    try {
      if (gate && slow) leave = await gate.enter(signal);
      ({ client, pool } = await source.connect());
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
  return memoReader(
    signal,
    (p) => {
      if (queue.push(p) === 1) setImmediate(flush);
    },
    opts.memo,
  );
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
function groupsOf(source: ReadSource): { add(g: GroupedBatch): void } {
  let groups = groupers.get(source);
  if (groups) return groups;
  let waiting: GroupedBatch[] = [];
  const send = () => {
    const ready = waiting.filter((g) => {
      if (g.signal?.aborted) cancel(g.batch);
      return !g.signal?.aborted;
    });
    waiting = [];
    for (let i = 0; i < ready.length; i += MAX_GROUP) void runGroup(source, ready.slice(i, i + MAX_GROUP));
  };
  groups = {
    add(g) {
      if (waiting.push(g) === 1) setImmediate(send);
    },
  };
  groupers.set(source, groups);
  return groups;
}

const groupers = new WeakMap<ReadSource, { add(g: GroupedBatch): void }>();

async function runGroup(source: ReadSource, group: GroupedBatch[]): Promise<void> {
  if (group.length === 1) return group[0]!.alone();
  let client: pg.PoolClient;
  try {
    ({ client } = await source.connect());
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
