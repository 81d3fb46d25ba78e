/** The application context: created once in main, passed to every factory (each takes the Pick it needs). */
import { parseConfig, type Config } from "./config.js";
import { createDb, type Db } from "./db.js";
import { createLogger, type Logger } from "./logger.js";
import { createShutdown, type Shutdown } from "./shutdown.js";

/** Everything a stage may need; factories declare their part with Pick<Context, ...>. */
export type Context = { config: Config; logger: Logger; db: Db; shutdown: Shutdown };

/** Builds the context from an environment; the db pool is closed by the shutdown. */
export function createContext(
  env: Record<string, string | undefined>,
  opts: { applicationName?: string } = {},
): Context {
  const config = parseConfig(env);
  const logger = createLogger(config);
  const shutdown = createShutdown({
    graceMs: config.SHUTDOWN_GRACE_MS,
    onError: (err) => logger.error({ err }, "shutdown step failed"),
  });
  const db = createDb(config.DATABASE_URL, { max: config.DATABASE_POOL_SIZE, applicationName: opts.applicationName });
  shutdown.add(() => db.$client.end());
  return { config, logger, db, shutdown };
}
