/** Single-writer leadership: a Postgres advisory lock held on a dedicated connection for the process's life. */
import pg from "pg";
import type { Logger } from "../../core/logger.js";

/** Advisory lock key of the one ingest process (block or logs mode) of a database. */
export const INGEST_LEADER_KEY = 7_462_010_003;

/** The shutdown reason when the lock session is lost: the process exits non-zero so a supervisor restarts it. */
export const LEADERSHIP_LOST = "leadership lost";

/**
 * Waits until this process holds the lock (or `signal` aborts: null). While waiting, a lost connection (Postgres
 * restarting) is reconnected. Once leading, `onLost` runs as soon as the lock session ends (terminated backend,
 * server restart, network): the session-level lock is gone with it, and another process may already lead.
 */
export async function acquireLeadership(opts: {
  url: string;
  key: number;
  logger: Logger;
  signal: AbortSignal;
  onLost: () => void;
}): Promise<{ release(): Promise<void> } | null> {
  let waitingLogged = false;
  while (!opts.signal.aborted) {
    const client = new pg.Client({ connectionString: opts.url, application_name: "slotline-ingest-leader" });
    let leading = false;
    let released = false;
    let lost = false;
    const lose = (err?: Error) => {
      if (!leading || released || lost) return;
      lost = true;
      opts.logger.error({ err }, "leader connection lost; stopping ingest");
      opts.onLost();
    };
    client.on("error", lose);
    client.on("end", () => lose());
    try {
      await client.connect();
      while (!opts.signal.aborted) {
        const r = await client.query<{ ok: boolean }>("select pg_try_advisory_lock($1) as ok", [opts.key]);
        if (r.rows[0]?.ok) {
          leading = true;
          opts.logger.info("leading ingest");
          return {
            async release() {
              released = true;
              await client.query("select pg_advisory_unlock($1)", [opts.key]).catch(() => {});
              await client.end().catch(() => {});
            },
          };
        }
        if (!waitingLogged) opts.logger.info("another ingest process leads; waiting to take over");
        waitingLogged = true;
        await new Promise((r) => setTimeout(r, 1_000));
      }
    } catch (err) {
      opts.logger.warn({ err }, "leader election connection failed; reconnecting");
      await new Promise((r) => setTimeout(r, 1_000));
    }
    await client.end().catch(() => {});
  }
  return null;
}
