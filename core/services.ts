/**
 * Start-up probes of the two services slotline needs, so a missing one is reported as one line naming the URL tried
 * and how to start it, instead of a driver's stack or a "Failed query" dump. Used by the CLI and the test setup.
 */
import pg from "pg";
import { redactUrl } from "./logger.js";
import { type RedisConfig, createRedis, describeRedis } from "./redis.js";

/** A service that did not answer (or, for Postgres, answered without the configured database). */
export type ServiceProblem = {
  service: "Postgres" | "Redis";
  /** the URL tried, credentials hidden */
  url: string;
  /** unreachable: nothing answered; no-database: the server answered, the database does not exist yet */
  kind: "unreachable" | "no-database";
  reason: string;
};

const PROBE_TIMEOUT_MS = 3_000;
const HOW_TO_START =
  "start the local service, or run `docker compose up -d postgres redis` (it needs POSTGRES_PASSWORD, REDIS_PASSWORD and API_DB_PASSWORD set: docs/operations.md)";

function reasonOf(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { errors?: Error[] };
  // net's AggregateError (IPv4 and IPv6 both refused) has an empty message; its parts say what happened
  return e.message || e.errors?.map((x) => x.message).join("; ") || e.code || String(err);
}

/** Connects to `url` once; null when the server and its database answer. */
export async function probePostgres(url: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<ServiceProblem | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on("error", () => {});
  try {
    await client.connect();
    return null;
  } catch (err) {
    const kind = (err as { code?: string }).code === "3D000" ? "no-database" : "unreachable";
    return { service: "Postgres", url: redactUrl(url), kind, reason: reasonOf(err) };
  } finally {
    await client.end().catch(() => {});
  }
}

/** Pings Redis (`url`, or the sentinels' master) once, without retrying; null when it answers. */
export async function probeRedis(
  target: string | RedisConfig,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<ServiceProblem | null> {
  const config: RedisConfig =
    typeof target === "string"
      ? { REDIS_URL: target, REDIS_SENTINELS: undefined, REDIS_SENTINEL_NAME: "mymaster" }
      : target;
  const url = describeRedis(config);
  const redis = createRedis(config, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    sentinelRetryStrategy: () => null,
  });
  // connect() rejects with "Connection is closed."; the socket's own error says why (ECONNREFUSED, ENOTFOUND, ...)
  let socketError: unknown;
  redis.on("error", (err) => (socketError ??= err));
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (err) {
    return {
      service: "Redis",
      url: config.REDIS_SENTINELS?.length ? url : redactUrl(url),
      kind: "unreachable",
      reason: reasonOf(socketError ?? err),
    };
  } finally {
    redis.disconnect();
  }
}

/** One line for a problem: what did not answer, where, why, and what to do. */
export function describeServiceProblem(p: ServiceProblem): string {
  if (p.kind === "no-database") {
    return `${p.service} at ${p.url} has no such database (${p.reason}): run \`npx slotline migrate\`, which creates it`;
  }
  return `${p.service} does not answer at ${p.url} (${p.reason}): ${HOW_TO_START}`;
}
