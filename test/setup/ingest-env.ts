/** Shared pieces of the ingest e2e tests: the environment of a slotline process pointed at a local chain. */
import pg from "pg";
import type { Chain } from "../../devchain/index.js";

/** Environment for slotline processes against `chain`, database `dbUrl`, Redis prefix `prefix`. */
export function ingestEnv(
  chain: Chain,
  dbUrl: string,
  redisUrl: string,
  prefix: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    DATABASE_URL: dbUrl,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    SOLANA_RPC_URL: chain.rpcUrl,
    SOLANA_WS_URL: chain.wsUrl,
    START_SLOT: String(chain.history.slots[0] ?? 0),
    RPC_MAX_RPS: "100000",
    RPC_CONCURRENCY: "16",
    INGEST_POLL_MS: "200",
    WS_STALL_MS: "3000",
    FINALITY_INTERVAL_MS: "500",
    ...extra,
  };
}

/** True once the live cursor has reached `slot` and nothing is pending. */
export async function caughtUp(dbUrl: string, slot: number): Promise<boolean> {
  const c = new pg.Client({ connectionString: dbUrl });
  c.on("error", () => {}); // ended by the server between queries (a restart): the next query fails instead
  await c.connect();
  try {
    const r = await c.query<{ cursor: string | null; pending: number }>(
      `select (select slot::text from cursors where id = 'live') as cursor, (select count(*)::int from slots where status = 'pending') as pending`,
    );
    const row = r.rows[0]!;
    return row.cursor !== null && Number(row.cursor) >= slot && row.pending === 0;
  } finally {
    await c.end();
  }
}

/** Runs one query on `dbUrl`. */
export async function query<T extends pg.QueryResultRow>(
  dbUrl: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const c = new pg.Client({ connectionString: dbUrl });
  c.on("error", () => {}); // ended by the server between queries (a restart): the next query fails instead
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}
