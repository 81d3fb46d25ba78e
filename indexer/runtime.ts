/**
 * The pieces a daemon process shares: Redis, the RPC client, metrics, the decoder, the store and the queue.
 * Each registers its own cleanup with the context's shutdown.
 */
import { Redis } from "ioredis";
import type { Context } from "./context.js";
import { createDecoder, type Decoder } from "./decode/index.js";
import { loadIdlDir } from "./idl-loader.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { createBlockQueue, type BlockQueue } from "./queue/index.js";
import { createRpcClient, type RpcClient } from "./source/rpc.js";
import { createStore, type Store } from "./store/index.js";

/** Shared daemon components. */
export type Runtime = { redis: Redis; rpc: RpcClient; metrics: Metrics; decoder: Decoder; store: Store; queue: BlockQueue };

/** Builds the runtime; Redis being down at start is not fatal: ioredis and BullMQ wait and reconnect. */
export async function createRuntime(ctx: Context): Promise<Runtime> {
  const { config, logger, shutdown } = ctx;
  const metrics = createMetrics();
  const redis = new Redis(config.REDIS_URL, {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 200, 5_000),
  });
  let redisDownLogged = false;
  redis.on("error", (err) => {
    if (!redisDownLogged) logger.warn({ err }, "redis unavailable; waiting for it");
    redisDownLogged = true;
  });
  redis.on("ready", () => {
    if (redisDownLogged) logger.info("redis is back");
    redisDownLogged = false;
  });
  shutdown.add(() => redis.quit().catch(() => redis.disconnect()));

  const rpc = createRpcClient({
    url: config.SOLANA_RPC_URL,
    maxRps: config.RPC_MAX_RPS,
    concurrency: config.RPC_CONCURRENCY,
    batchSize: config.RPC_BATCH_SIZE,
    timeoutMs: config.RPC_TIMEOUT_MS,
    logger: logger.child({ stage: "rpc" }),
    metrics,
  });
  const idls = config.IDL_DIR
    ? await loadIdlDir(config.IDL_DIR, (s) => logger.warn({ file: s.file, reason: s.reason }, "IDL skipped"))
    : [];
  const decoder = createDecoder({ programs: config.PROGRAMS, idls });
  const store = createStore(ctx);
  const queue = createBlockQueue(redis, config.QUEUE_PREFIX);
  shutdown.add(() => queue.close());
  logger.info({ programs: decoder.trackedProgramIds.size, idls: idls.length }, "runtime ready");
  return { redis, rpc, metrics, decoder, store, queue };
}
