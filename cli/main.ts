/**
 * Composition root and CLI: `slotline <command>`. Each command parses the config once, builds the context
 * it needs, wires the stages explicitly and installs signal handlers.
 */
import { readdirSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { ConfigError, parseConfig } from "../core/config.js";
import { createContext, type Context } from "../core/context.js";
import { createLogger } from "../core/logger.js";
import { MIGRATIONS_FOLDER, runMigrations } from "../core/migrate.js";
import { formatStatus, readStatus } from "./commands/status.js";
import { daemonHealth, startOpsServer } from "./ops-server.js";
import { createBlockWorker } from "../indexer/pipeline/worker.js";
import { createRuntime, type Runtime } from "./runtime.js";
import { LEADERSHIP_LOST } from "../indexer/ingest/leader.js";
import { ingestHealth, startLiveIngest } from "../indexer/ingest/live.js";
import { startLogsIngest } from "../indexer/ingest/logs.js";
import { demoEnvironment, resetDemoState, startDemoChain } from "./commands/demo.js";
import { type BackfillCliOptions, backfillCommand, checkBackfillArgs, formatSummary } from "./commands/backfill.js";
import { listDeadLetters, retryDeadLetters } from "./commands/dead-letters.js";
import { Redis } from "ioredis";
import { createBlockQueue } from "../indexer/queue/index.js";

/**
 * The API (graphql, Pothos, yoga: about 0.8 s of a process start) is loaded only by the commands that serve it, so
 * `worker`, `ingest`, `migrate` and the short-lived CLI commands start that much sooner.
 */
const startApi = async (ctx: Context) => (await import("../api/server/main.js")).startApi(ctx);

/** Exit codes: 0 ok, 1 runtime failure, 2 bad configuration or arguments. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

const env = process.env;

function availableMigrations(): number {
  return readdirSync(MIGRATIONS_FOLDER).filter((f) => f.endsWith(".sql")).length;
}

/** Runs a command body with a context; maps errors to exit codes and always shuts down. */
async function withContext(applicationName: string, body: (ctx: Context) => Promise<number | void>): Promise<never> {
  let ctx: Context;
  try {
    ctx = createContext(env, { applicationName });
  } catch (err) {
    return fail(err);
  }
  const onSignal = (signal: string) => {
    ctx.logger.info({ signal }, "shutting down");
    void ctx.shutdown.kill(signal).then(() => process.exit(EXIT.ok));
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  process.on("uncaughtException", (err) => {
    ctx.logger.fatal({ err }, "uncaught exception");
    void ctx.shutdown.kill("uncaughtException").then(() => process.exit(EXIT.failure));
  });
  process.on("unhandledRejection", (err) => {
    ctx.logger.fatal({ err }, "unhandled rejection");
    void ctx.shutdown.kill("unhandledRejection").then(() => process.exit(EXIT.failure));
  });
  let code: number = EXIT.ok;
  try {
    code = (await body(ctx)) ?? EXIT.ok;
  } catch (err) {
    ctx.logger.error({ err }, "command failed");
    process.stderr.write(`error: ${(err as Error).message}\n`);
    code = EXIT.failure;
  }
  await ctx.shutdown.kill("done");
  process.exit(code);
}

function fail(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\nSee .env.example for every key and its default.\n`);
    process.exit(EXIT.usage);
  }
  process.stderr.write(`error: ${(err as Error).message}\n`);
  process.exit(EXIT.failure);
}

const program = new Command()
  .name("slotline")
  .description(
    "Self-hosted Solana indexer with a GraphQL read API. Configuration comes from the environment (see .env.example).",
  )
  .version("0.1.0")
  .showHelpAfterError()
  .exitOverride();

program
  .command("migrate")
  .description(
    "apply pending database migrations (creates the database if missing); safe to run from several processes at once",
  )
  .action(async () => {
    let config;
    try {
      config = parseConfig(env);
    } catch (err) {
      fail(err);
    }
    const logger = createLogger(config);
    try {
      const r = await runMigrations(config.DATABASE_URL, { logger });
      process.stdout.write(
        `${r.applied === 0 ? "nothing to apply" : `applied ${r.applied} migration(s)`}; ${r.total} applied in all\n`,
      );
      process.exit(EXIT.ok);
    } catch (err) {
      logger.error({ err }, "migrate failed");
      fail(err);
    }
  });

program
  .command("status")
  .description("print the live resume point, backfills in progress, slot counts and dead letters")
  .option("--json", "print JSON instead of text")
  .action((opts: { json?: boolean }) =>
    withContext("slotline-status", async (ctx) => {
      const report = await readStatus(ctx, availableMigrations());
      process.stdout.write(`${opts.json ? JSON.stringify(report, null, 2) : formatStatus(report)}\n`);
    }),
  );

/** Starts the parts of a daemon process; resolves when the process should exit. */
async function runDaemon(
  ctx: Context,
  parts: { ingest: boolean; worker: boolean; api?: boolean; concurrency?: number },
): Promise<number> {
  await runMigrations(ctx.config.DATABASE_URL, { logger: ctx.logger });
  const rt: Runtime = await createRuntime(ctx);
  let ingest: Awaited<ReturnType<typeof startLiveIngest>> | undefined;
  let ingestRunning = false;
  const ops = await startOpsServer({
    port: ctx.config.METRICS_PORT,
    metrics: rt.metrics,
    logger: ctx.logger,
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
  } else if (parts.ingest) {
    const c = ctx.config;
    ingest = await startLiveIngest(ctx, rt, {
      maxQueued: c.MAX_QUEUED_JOBS,
      pollMs: c.INGEST_POLL_MS,
      stallMs: c.WS_STALL_MS,
      finalityEveryMs: c.FINALITY_INTERVAL_MS,
    });
    ctx.shutdown.add(() => ingest?.stop());
    ingestRunning = true;
  }
  await new Promise<void>((resolve) => ctx.shutdown.signal.addEventListener("abort", () => resolve(), { once: true }));
  // A lost leader lock exits non-zero, so a supervisor restarts the process (it then waits as a follower).
  const lostLead = (ctx.shutdown.signal.reason as Error | undefined)?.message === LEADERSHIP_LOST;
  return rt.failure() || lostLead ? EXIT.failure : EXIT.ok;
}

program
  .command("start")
  .description("run ingest, worker and the GraphQL API in one process (small deployments)")
  .action(() => withContext("slotline-start", (ctx) => runDaemon(ctx, { ingest: true, worker: true, api: true })));
program
  .command("ingest")
  .description(
    "follow the chain (slot subscription + getBlocks) and enqueue blocks for the workers; one process leads, others wait",
  )
  .action(() => withContext("slotline-ingest", (ctx) => runDaemon(ctx, { ingest: true, worker: false })));
program
  .command("worker")
  .description("fetch, decode and store queued blocks; run any number, on any machine")
  .option("--concurrency <n>", "jobs processed at once (default WORKER_CONCURRENCY)", (v) => Number(v))
  .action((opts: { concurrency?: number }) =>
    withContext("slotline-worker", (ctx) =>
      runDaemon(ctx, { ingest: false, worker: true, concurrency: opts.concurrency }),
    ),
  );
program
  .command("api")
  .description("serve the GraphQL API on API_PORT (/graphql, /health, /ready, /metrics); read-only, run any number")
  .action(() =>
    withContext("slotline-api", async (ctx) => {
      const api = await startApi(ctx);
      ctx.shutdown.add(() => api.close());
      process.stdout.write(`GraphQL API at ${api.url}\n`);
      await new Promise<void>((resolve) =>
        ctx.shutdown.signal.addEventListener("abort", () => resolve(), { once: true }),
      );
    }),
  );
program
  .command("backfill")
  .description("index history by slot range or by address, resumably (same command again resumes); beside live ingest")
  .option("--from-slot <slot>", "first slot of the range")
  .option("--to-slot <slot>", "last slot of the range")
  .option("--program <preset|id>", "a program's history (getSignaturesForAddress)")
  .option("--address <id>", "an address's history (getSignaturesForAddress)")
  .option("--before <signature>", "address mode: start below this signature")
  .option("--until <signature>", "address mode: stop at this signature (must be known to the RPC)")
  .option("--limit <n>", "address mode: at most n signatures")
  .option("--programs <list>", "decode only these presets or program ids (default PROGRAMS)")
  .option("--batch-size <n>", "blocks or signatures per job")
  .option("--rps <n>", "override RPC_MAX_RPS")
  .option("--concurrency <n>", "override RPC_CONCURRENCY (and inline lanes)")
  .option("--inline", "do the work in this process instead of the queue's workers")
  .option("--dry-run", "report what would be fetched, change nothing")
  .action((opts: BackfillCliOptions) => {
    let config;
    try {
      config = parseConfig(env);
    } catch (err) {
      fail(err);
    }
    const checked = checkBackfillArgs(opts, { config });
    if (checked.problems.length) {
      process.stderr.write(`${checked.problems.join("\n")}\n`);
      process.exit(EXIT.usage);
    }
    return withContext("slotline-backfill", async (ctx) => {
      await runMigrations(ctx.config.DATABASE_URL, { logger: ctx.logger });
      const rt = await createRuntime(ctx);
      const out = await backfillCommand(ctx, rt, opts);
      if (out.message) (out.code === 0 ? process.stdout : process.stderr).write(`${out.message}\n`);
      if (out.summary) process.stdout.write(`${formatSummary(out.summary)}\n`);
      return out.code;
    });
  });
const deadLetters = program
  .command("dead-letters")
  .description("work that failed deterministically: list it, or replay it");
deadLetters
  .command("list")
  .description("dead letters not yet retried, newest first")
  .option("--json", "print JSON")
  .option("--limit <n>", "at most n", (v) => Number(v), 100)
  .action((opts: { json?: boolean; limit: number }) =>
    withContext("slotline-dead-letters", async (ctx) => {
      const rows = await listDeadLetters(ctx, opts.limit);
      if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else if (rows.length === 0) process.stdout.write("no dead letters\n");
      else
        for (const d of rows)
          process.stdout.write(
            `${d.id}\t${d.createdAt}\t${d.jobId}\tslots ${d.payload.slots.join(",")}\t${d.attempts} attempts\t${d.error}\n`,
          );
    }),
  );
deadLetters
  .command("retry [ids...]")
  .description("re-enqueue dead letters (all, or the given ids) for the workers")
  .action((ids: string[]) =>
    withContext("slotline-dead-letters", async (ctx) => {
      const redis = new Redis(ctx.config.REDIS_URL, { maxRetriesPerRequest: null });
      const queue = createBlockQueue(redis, ctx.config.QUEUE_PREFIX);
      try {
        const bad = ids.filter((i) => !/^\d+$/.test(i));
        if (bad.length) {
          process.stderr.write(`not dead-letter ids: ${bad.join(", ")} (see \`slotline dead-letters list\`)\n`);
          return EXIT.usage;
        }
        const n = await retryDeadLetters(ctx, queue, ids.map(Number));
        process.stdout.write(`re-enqueued ${n} dead letter(s)\n`);
      } finally {
        await queue.close();
        redis.disconnect();
      }
    }),
  );

program
  .command("demo")
  .description(
    "local chain (real mainnet blocks + cloned live load) -> migrate -> ingest + worker + GraphQL API, filled live; Ctrl-C stops",
  )
  .option("--chain-port <n>", "local chain HTTP port (WebSocket on port + 1)", (v) => Number(v), 8899)
  .option("--synthetic-tps <n>", "transactions per second in new slots, cloned from mainnet", (v) => Number(v), 200)
  .option("--slot-ms <n>", "a new slot every n ms", (v) => Number(v), 400)
  .action(async (opts: { chainPort: number; syntheticTps: number; slotMs: number }) => {
    // The demo's own database and Redis prefix, new every run (demo.ts: demoEnvironment).
    let own: ReturnType<typeof demoEnvironment>;
    try {
      const config = parseConfig(env);
      own = demoEnvironment(config.DATABASE_URL);
      await resetDemoState(own.DATABASE_URL, config.REDIS_URL);
    } catch (err) {
      return fail(err);
    }
    delete env.DATABASE_READ_URL;
    const chain = await startDemoChain({ port: opts.chainPort, syntheticTps: opts.syntheticTps, slotMs: opts.slotMs });
    Object.assign(env, chain.env, own, { LOG_FORMAT: env.LOG_FORMAT ?? "pretty", LOG_LEVEL: env.LOG_LEVEL ?? "warn" });
    await withContext("slotline-demo", async (ctx) => {
      ctx.shutdown.add(() => chain.close());
      const done = runDaemon(ctx, { ingest: true, worker: true, api: true });
      const url = `http://127.0.0.1:${ctx.config.API_PORT}/graphql`;
      const { DASHBOARD_QUERY } = await import("../api/server/example.js");
      process.stdout.write(
        `\nslotline demo\n  local chain   ${chain.rpcUrl} (real mainnet blocks from slot 332254855, then ${opts.syntheticTps} tx/s cloned)\n` +
          `  database      ${ctx.config.DATABASE_URL.replace(/:[^:@/]*@/, ":***@")} (new for this run; Redis prefix ${own.QUEUE_PREFIX})\n` +
          `  GraphQL       ${url} (GraphiQL in the browser)\n\n` +
          `Try this dashboard query (GraphiQL, or curl below):\n\n${DASHBOARD_QUERY}\n\n` +
          `curl -s ${url} -H 'content-type: application/json' -d '${JSON.stringify({ query: DASHBOARD_QUERY.replace(/\s+/g, " ") })}'\n\n` +
          `DATABASE_URL=<the database above> QUEUE_PREFIX=${own.QUEUE_PREFIX} npx slotline status   # in another terminal: the resume point climbing\nCtrl-C stops.\n\n`,
      );
      return done;
    });
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version exit 0; usage errors exit 2 (commander already printed the message).
    process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage);
  }
  fail(err);
}
