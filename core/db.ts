/** Postgres access: a pg Pool wrapped by drizzle, with the full schema for typed queries. */
import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import pg from "pg";
import * as schema from "../schema/index.js";

/** The drizzle database type every stage uses. */
export type Db = NodePgDatabase<typeof schema> & { $client: pg.Pool };

// numeric and int8 come back as strings by default; drizzle maps the columns it knows, and raw queries
// parse them where they need to. Never let pg turn them into JS numbers.

/** Creates a pool and its drizzle wrapper; `applicationName` shows in pg_stat_activity (useful for fault tests). */
export function createDb(
  url: string,
  opts: { max?: number; applicationName?: string; statementTimeoutMs?: number } = {},
): Db {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? "slotline",
    statement_timeout: opts.statementTimeoutMs,
    idleTimeoutMillis: 30_000,
  });
  // A connection lost (backend terminated, server restart) must never crash the process: pg emits 'error' on the
  // client, and pg-pool listens only while the client is idle. A checked-out client (e.g. inside a store
  // transaction) gets its own listener; its next query fails (retryable) and release() drops the broken client.
  pool.on("error", () => {});
  pool.on("connect", (client) => void client.on("error", () => {}));
  return drizzle(pool, { schema }) as Db;
}
