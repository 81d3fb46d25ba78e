/**
 * The pieces a daemon process shares: Redis, the RPC client, metrics, the decoder, the store and the queue.
 * Each registers its own cleanup with the context's shutdown.
 */
import type { Redis } from "ioredis";
import type { Context } from "../core/context.js";
import { createDecoder, type Decoder } from "../indexer/decode/index.js";
import { RedisConfigError } from "../core/errors.js";
import { type RedisConfig, createRedis } from "../core/redis.js";
import { loadIdlDir } from "../indexer/decode/index.js";
import type { Logger } from "../core/logger.js";
import { createMetrics, type Metrics } from "../core/metrics.js";
import { createBlockQueue, type BlockQueue } from "../indexer/queue/index.js";
import { createRpcPool, type RpcPool } from "../indexer/source/index.js";
import { createStore, type Store } from "../indexer/store/index.js";

/** Shared daemon components; `failure()` is set when the process must exit non-zero (a Redis that evicts keys). */
export type Runtime = {
  redis: Redis;
  rpc: RpcPool;
  metrics: Metrics;
  decoder: Decoder;
  store: Store;
  queue: BlockQueue;
  failure(): Error | null;
};

/** How long start-up waits for Redis before going on without it (it reconnects in the background). */
const REDIS_START_WAIT_MS = 3_000;

/** The server's eviction policy as an error, or null when it is noeviction (the only safe one for BullMQ). */
export async function checkEvictionPolicy(redis: Redis): Promise<RedisConfigError | null> {
  const info = await redis.info("memory");
  const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
  if (!policy || policy === "noeviction") return null;
  return new RedisConfigError(
    `Redis maxmemory-policy is ${policy}: it may evict queued jobs and their locks. slotline requires noeviction ` +
      `(redis.conf "maxmemory-policy noeviction", or CONFIG SET maxmemory-policy noeviction)`,
  );
}

/** A connection that logs "unavailable" once per outage and "back" when it returns. */
function connect(config: RedisConfig, logger: Logger, name: string, opts: { failFast: boolean }): Redis {
  const redis = createRedis(config, {
    // Workers and subscribers wait through an outage; the producer fails fast so nothing piles up in memory.
    maxRetriesPerRequest: opts.failFast ? 1 : null,
    enableOfflineQueue: !opts.failFast,
    retryStrategy: (times) => Math.min(times * 200, 5_000),
  });
  let down = false;
  redis.on("error", (err) => {
    if (!down) logger.warn({ err, connection: name }, "redis unavailable; waiting for it");
    down = true;
  });
  redis.on("ready", () => {
    if (down) logger.info({ connection: name }, "redis is back");
    down = false;
  });
  return redis;
}

/** Resolves true once `redis` is ready, false after `ms`. */
function readyWithin(redis: Redis, ms: number): Promise<boolean> {
  if (redis.status === "ready") return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => (redis.off("ready", ok), resolve(false)), ms);
    const ok = () => (clearTimeout(t), resolve(true));
    redis.once("ready", ok);
  });
}

/**
 * Builds the runtime. Redis being down at start is not fatal: connections reconnect, the producer fails fast
 * meanwhile. A Redis whose eviction policy is not noeviction is: refused at start, or as soon as it is seen.
 */
export async function createRuntime(ctx: Context): Promise<Runtime> {
  const { config, logger, shutdown } = ctx;
  const metrics = createMetrics();
  const redis = connect(config, logger, "main", { failFast: false });
  shutdown.add(() => redis.quit().catch(() => redis.disconnect()));
  const producer = connect(config, logger, "producer", { failFast: true });
  shutdown.add(() => producer.quit().catch(() => producer.disconnect()));

  let failure: Error | null = null;
  const checkPolicy = async () => {
    const err = await checkEvictionPolicy(producer).catch(() => null);
    if (!err || failure) return;
    failure = err;
    logger.fatal({ err }, "refusing to run against this Redis");
    process.stderr.write(`error: ${err.message}\n`);
    void shutdown.kill("redis eviction policy");
  };
  if (await readyWithin(producer, REDIS_START_WAIT_MS)) {
    const err = await checkEvictionPolicy(producer);
    if (err) throw err;
  } else {
    logger.warn(
      { waited_ms: REDIS_START_WAIT_MS },
      "redis not reachable at start; going on, work starts when it answers",
    );
  }
  // Checked again on every (re)connect: the server may have been replaced by a differently configured one.
  producer.on("ready", () => void checkPolicy());

  // One endpoint: its client as before; several (or an archive): the pool (indexer/source/pool.ts).
  const rpc = createRpcPool({
    endpoints: config.SOLANA_RPC_ENDPOINTS,
    archive: config.SOLANA_ARCHIVE_RPC,
    maxRps: config.RPC_MAX_RPS,
    concurrency: config.RPC_CONCURRENCY,
    batchSize: config.RPC_BATCH_SIZE,
    timeoutMs: config.RPC_TIMEOUT_MS,
    maxAnswerBytes: config.RPC_MAX_ANSWER_MB * 1024 * 1024,
    logger: logger.child({ stage: "rpc" }),
    metrics,
  });
  const idls = config.IDL_DIR
    ? await loadIdlDir(config.IDL_DIR, (s) => logger.warn({ file: s.file, reason: s.reason }, "IDL skipped"))
    : [];
  const decoder = createDecoder({ programs: config.PROGRAMS, idls });
  const store = createStore(ctx);
  const queue = createBlockQueue(producer, config.QUEUE_PREFIX);
  shutdown.add(() => queue.close());
  logger.info({ programs: decoder.trackedProgramIds.size, idls: idls.length }, "runtime ready");
  return { redis, rpc, metrics, decoder, store, queue, failure: () => failure };
}
