/**
 * Every Redis connection slotline opens (queues, workers, events, the response cache) is made here: to REDIS_URL, or,
 * with REDIS_SENTINELS, to the master Sentinel names for REDIS_SENTINEL_NAME, found again after a failover.
 * @dev ioredis asks the sentinels for the master on every (re)connect and checks the server's role; a connection
 * still on a demoted master is told READONLY on its next write and reconnects. ioredis' `failoverDetector` is not
 * used: its disconnect on +switch-master, arriving while a reconnect is resolving the master, ends the client for
 * good (status "end", no retry), which the Sentinel test saw in two runs of three. REDIS_URL still gives the
 * password, user and database number of the data nodes.
 */
import { Redis, type RedisOptions } from "ioredis";
import type { Config } from "./config.js";

/** The keys a Redis connection is made from. */
export type RedisConfig = Pick<Config, "REDIS_URL" | "REDIS_SENTINELS" | "REDIS_SENTINEL_NAME">;

/** Parses `host:port` sentinel entries (port 26379 when absent). */
export function sentinelAddresses(entries: readonly string[]): { host: string; port: number }[] {
  return entries.map((e) => {
    const i = e.lastIndexOf(":");
    return i < 0 ? { host: e, port: 26379 } : { host: e.slice(0, i), port: Number(e.slice(i + 1)) };
  });
}

/** A new connection with `opts` on top of the deployment's address (REDIS_URL, or the sentinels' master). */
export function createRedis(config: RedisConfig, opts: RedisOptions = {}): Redis {
  if (!config.REDIS_SENTINELS?.length) return new Redis(config.REDIS_URL, opts);
  const u = new URL(config.REDIS_URL);
  const db = Number(u.pathname.slice(1) || 0);
  return new Redis({
    sentinels: sentinelAddresses(config.REDIS_SENTINELS),
    name: config.REDIS_SENTINEL_NAME,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: Number.isInteger(db) ? db : 0,
    ...(u.protocol === "rediss:" ? { tls: {} } : {}),
    reconnectOnError: (err) => (err.message.startsWith("READONLY") ? 2 : false),
    // while no sentinel answers (all restarting): keep asking, as a plain connection keeps reconnecting
    sentinelRetryStrategy: (times) => Math.min(times * 200, 2_000),
    ...opts,
  });
}

/** Where the connections go, for messages: the URL, or the sentinels and the master's name. */
export function describeRedis(config: RedisConfig): string {
  return config.REDIS_SENTINELS?.length
    ? `sentinel ${config.REDIS_SENTINELS.join(",")} (master ${config.REDIS_SENTINEL_NAME})`
    : config.REDIS_URL;
}
