/**
 * The plain mode of the read path (API_SQL_MODE=plain): each statement is one ordinary query on a pool connection of
 * its own, sent as soon as it is asked for. pg's normal path only: no batches, no grouping across requests, no
 * prepared-statement names, no slow lane (it learns from the pipelined mode's server-clocked batches). The fallback
 * to turn to when the pipelined path is suspected; it answers the same rows and the same coded errors.
 * @dev an aborted request's running statement is cancelled with pg_cancel_backend from a short connection of its own,
 * and the statement's connection is then closed, not returned: a cancel that arrives late must not reach the next
 * request's statement on that connection.
 */
import pg from "pg";
import { type ReadSource, sourceOf } from "./replicas.js";
import { type Pending, type Reader, type StatementMemo, cancelled, mapError, memoReader } from "./reader.js";

/** A reader bound to one request: its abort signal and a per-statement hook (metrics). */
export function createPlainReader(
  from: pg.Pool | ReadSource,
  opts: { signal?: AbortSignal; onStatement?: (ms: number) => void; memo?: StatementMemo } = {},
): Reader {
  const { signal, onStatement } = opts;
  const source = sourceOf(from);
  return memoReader(signal, (p) => void run(source, p, signal, onStatement), opts.memo);
}

async function run(
  source: ReadSource,
  p: Pending,
  signal: AbortSignal | undefined,
  onStatement: ((ms: number) => void) | undefined,
): Promise<void> {
  let client: pg.PoolClient;
  let pool: pg.Pool;
  try {
    ({ client, pool } = await source.connect());
  } catch (err) {
    p.reject(err);
    return;
  }
  if (signal?.aborted) {
    client.release();
    p.reject(cancelled());
    return;
  }
  let cancelling: Promise<void> | undefined;
  const onAbort = () => {
    cancelling = cancelBackend(pool, (client as unknown as { processID: number }).processID);
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  const started = performance.now();
  try {
    const r = await client.query({ text: p.text, values: p.values });
    onStatement?.(performance.now() - started);
    p.resolve(r.rows);
  } catch (err) {
    p.reject(mapError(err, signal));
  } finally {
    signal?.removeEventListener("abort", onAbort);
    client.release(cancelling !== undefined);
  }
}

/** Cancels backend `pid`'s running statement, if any (an idle backend ignores it). */
async function cancelBackend(pool: pg.Pool, pid: number): Promise<void> {
  const canceller = new pg.Client((pool as unknown as { options: pg.ClientConfig }).options);
  canceller.on("error", () => {});
  try {
    await canceller.connect();
    await canceller.query("select pg_cancel_backend($1)", [pid]);
  } catch {
    // the statement timeout still bounds the statement
  } finally {
    await canceller.end().catch(() => {});
  }
}
