/** Single-writer leadership: a Postgres advisory lock held on a dedicated connection for the process's life. */
import pg from "pg";
import type { Logger } from "../logger.js";

/** Advisory lock key of the one ingest process (block or logs mode) of a database. */
export const INGEST_LEADER_KEY = 7_462_010_003;

/** Waits until this process holds the lock (or `signal` aborts: null). `onLost` runs if the connection drops. */
export async function acquireLeadership(opts: { url: string; key: number; logger: Logger; signal: AbortSignal; onLost: () => void }): Promise<{ release(): Promise<void> } | null> {
  const client = new pg.Client({ connectionString: opts.url, application_name: "slotline-ingest-leader" });
  await client.connect();
  client.on("error", (err) => {
    opts.logger.error({ err }, "leader connection lost; stopping ingest");
    opts.onLost();
  });
  let waitingLogged = false;
  while (!opts.signal.aborted) {
    const r = await client.query<{ ok: boolean }>("select pg_try_advisory_lock($1) as ok", [opts.key]);
    if (r.rows[0]?.ok) {
      opts.logger.info("leading ingest");
      return {
        async release() {
          await client.query("select pg_advisory_unlock($1)", [opts.key]).catch(() => {});
          await client.end().catch(() => {});
        },
      };
    }
    if (!waitingLogged) opts.logger.info("another ingest process leads; waiting to take over");
    waitingLogged = true;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  await client.end().catch(() => {});
  return null;
}
