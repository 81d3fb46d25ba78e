/**
 * The daemon commands' shared body (`start`, `ingest`, `worker`, and the demo): migrations, the runtime, the ops
 * endpoint, then the parts the command asks for; resolves with the exit code when the process should stop.
 */
import type { Context } from "../core/context.js";
import { secretsOf } from "../core/logger.js";
import { runMigrations } from "../core/migrate.js";
import { readRoleOf } from "../core/read-role.js";
import {
  gapReason,
  ingestHealth,
  LEADERSHIP_LOST,
  startLiveIngest,
  startLogsIngest,
  startUpkeep,
} from "../indexer/ingest/index.js";
import { createBlockWorker } from "../indexer/pipeline/index.js";
import { startPricing } from "../indexer/pricing/index.js";
import { daemonHealth, startOpsServer, stuckReason } from "./ops-server.js";
import { EXIT } from "./run.js";
import { createRuntime, type Runtime } from "./runtime.js";

/**
 * The API (graphql, Pothos, yoga: about 0.8 s of a process start) is loaded only by the commands that serve it, so
 * `worker`, `ingest`, `migrate` and the short-lived CLI commands start that much sooner.
 */
export const startApi = async (ctx: Context) => (await import("../api/server/index.js")).startApi(ctx);

/** Resolves when the context's shutdown starts (a signal, a fatal error, a lost leader lock). */
export function untilShutdown(ctx: Pick<Context, "shutdown">): Promise<void> {
  return new Promise((resolve) => ctx.shutdown.signal.addEventListener("abort", () => resolve(), { once: true }));
}

/** Which parts a daemon process runs. */
export type DaemonParts = { ingest: boolean; worker: boolean; api?: boolean; concurrency?: number };

/** Starts the parts of a daemon process; resolves when the process should exit. */
export async function runDaemon(ctx: Context, parts: DaemonParts): Promise<number> {
  await runMigrations(ctx.config.DATABASE_URL, { logger: ctx.logger, readRole: readRoleOf(ctx.config) });
  const rt: Runtime = await createRuntime(ctx);
  let ingest: Awaited<ReturnType<typeof startLiveIngest>> | undefined;
  let ingestRunning = false;
  const ops = await startOpsServer({
    port: ctx.config.METRICS_PORT,
    metrics: rt.metrics,
    logger: ctx.logger,
    secrets: secretsOf(ctx.config),
    health: async () => ({
      ...(await daemonHealth(rt, ingest?.status())),
      ...(ingest ? ingestHealth(ingest.status()) : {}),
    }),
    async ready() {
      try {
        await ctx.db.$client.query("select 1");
      } catch {
        return "database does not answer";
      }
      // Not ready while disconnected: a ping would wait in the offline queue until Redis returns.
      if (rt.redis.status !== "ready" || (await rt.redis.ping().catch(() => null)) !== "PONG")
        return "redis does not answer";
      if (parts.ingest && !ingestRunning) return "waiting for ingest leadership";
      // A dead letter holding the resume point is an alarm on both endpoints, not only a log line.
      if (ingest) return stuckReason(await daemonHealth(rt, ingest.status())) ?? gapReason(ingest.status());
      return null;
    },
  }).catch((err) => {
    ctx.logger.warn({ err, port: ctx.config.METRICS_PORT }, "ops endpoint not started");
    return undefined;
  });
  if (ops) ctx.shutdown.add(() => ops.close());
  if (parts.worker) {
    const worker = createBlockWorker(ctx, { ...rt, concurrency: parts.concurrency ?? ctx.config.WORKER_CONCURRENCY });
    // Registered after the queue, so it closes first: in-flight jobs finish or return to the queue.
    ctx.shutdown.add(() => worker.close());
  }
  if (parts.api) {
    const api = await startApi(ctx);
    ctx.shutdown.add(() => api.close());
    ctx.logger.info({ url: api.url }, "GraphQL API listening");
  }
  if (parts.ingest && ctx.config.INGEST_MODE === "logs") {
    const logsIngest = await startLogsIngest(
      ctx,
      { ...rt, programs: [...rt.decoder.trackedProgramIds] },
      { sweepMs: ctx.config.LOGS_SWEEP_MS },
    );
    ctx.shutdown.add(() => logsIngest.stop());
    ingestRunning = true;
    // Behind the point up to which the sweeps found every tracked transaction stored (the live cursor in logs mode).
    const pricing = startPricing(ctx, { everyMs: ctx.config.INGEST_POLL_MS });
    ctx.shutdown.add(() => pricing.stop());
  } else if (parts.ingest) {
    const c = ctx.config;
    ingest = await startLiveIngest(ctx, rt, {
      maxQueued: c.MAX_QUEUED_JOBS,
      pollMs: c.INGEST_POLL_MS,
      stallMs: c.WS_STALL_MS,
      grpcStallMs: c.GRPC_STALL_MS,
      finalityEveryMs: c.FINALITY_INTERVAL_MS,
    });
    ctx.shutdown.add(() => ingest?.stop());
    ingestRunning = true;
    // Behind the resume point the leader keeps: prices follow the slots in chain order.
    const pricing = startPricing(ctx, { everyMs: c.INGEST_POLL_MS });
    ctx.shutdown.add(() => pricing.stop());
  }
  if (ingestRunning) {
    // Partitions ahead of the resume point; retention behind both it and pricing (the rows a partition drop takes
    // are stored and priced, and nothing derived is read from them again).
    const upkeep = startUpkeep(ctx, rt, { keepSlots: ctx.config.RETENTION_SLOTS });
    ctx.shutdown.add(() => upkeep.stop());
  }
  await untilShutdown(ctx);
  // A lost leader lock exits non-zero, so a supervisor restarts the process (it then waits as a follower).
  const lostLead = (ctx.shutdown.signal.reason as Error | undefined)?.message === LEADERSHIP_LOST;
  return rt.failure() || lostLead ? EXIT.failure : EXIT.ok;
}
