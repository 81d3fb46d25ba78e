/**
 * The API's own read-only Postgres pool, and the one function every resolver's SQL goes through:
 * it applies the request's abort signal (a client that disconnects cancels its backend query) and maps
 * timeouts to a coded error.
 */
import { createHash } from "node:crypto";
import pg from "pg";
import { apiError } from "./errors.js";
import { type Fragment, compile } from "./sql.js";

/** Options of the read pool. */
export type ReadPoolOptions = { max?: number; statementTimeoutMs?: number; applicationName?: string };

// int8 columns are slots, indexes and counts: all far below 2^53, so numbers. numeric (amounts) stays a
// decimal string, which is what the BigInt scalar sends.
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
};

/**
 * A pool whose sessions are read-only (`default_transaction_read_only`) with a statement timeout.
 * @dev the API never writes; the session setting makes an accidental write fail instead of landing.
 */
export function createReadPool(url: string, opts: ReadPoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? "slotline-api",
    statement_timeout: opts.statementTimeoutMs ?? 5_000,
    options: "-c default_transaction_read_only=on",
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
 * @dev texts come only from code (values are parameters), so the set is bounded; past MAX_PREPARED, statements run unnamed.
 */
function statementName(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < MAX_PREPARED) {
    name = `slotline_${createHash("sha1").update(text).digest("hex").slice(0, 20)}`;
    names.set(text, name);
  }
  return name;
}

/** Runs SQL for one request. */
export type Reader = {
  rows<T>(q: Fragment): Promise<T[]>;
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

/** A reader bound to one request: its abort signal and a per-statement hook (metrics). */
export function createReader(pool: pg.Pool, opts: { signal?: AbortSignal; onStatement?: (ms: number) => void } = {}): Reader {
  const { signal } = opts;
  return {
    async rows<T>(q: Fragment): Promise<T[]> {
      if (signal?.aborted) throw apiError("QUERY_CANCELLED", "The request was cancelled.");
      const { text, values } = compile(q);
      const client = await pool.connect();
      const onAbort = () => cancelRunning(pool, client);
      signal?.addEventListener("abort", onAbort, { once: true });
      const started = performance.now();
      try {
        const r = await client.query({ text, values, name: statementName(text) });
        return r.rows as T[];
      } catch (err) {
        const code = (err as { code?: string }).code;
        // 57014 is query_canceled: our own cancel (client gone) or statement_timeout.
        if (code === "57014") {
          if (signal?.aborted) throw apiError("QUERY_CANCELLED", "The request was cancelled.");
          throw apiError("QUERY_TIMEOUT", "The query took too long and was stopped.");
        }
        throw err;
      } finally {
        signal?.removeEventListener("abort", onAbort);
        client.release();
        opts.onStatement?.(performance.now() - started);
      }
    },
  };
}
