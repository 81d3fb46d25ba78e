/**
 * `slotline demo`: the local chain (real mainnet blocks, then new slots with cloned mainnet load), migrations,
 * ingest, worker and the GraphQL API in one process, so a user sees the database fill live with no RPC provider.
 * @dev the chain is devchain/, built with the rest; it serves the recorded mainnet blocks of ../shared/fixtures
 * beside the project, or of the folder given with `--fixtures` (a container mounts it).
 */

import type { Command } from "commander";
import { parseConfig } from "../../core/config.js";
import { runDaemon } from "../daemon.js";
import { checkServices, env, fail, withContext } from "../run.js";
import { servedUrls } from "./api.js";

/** First slot of the two whole mainnet blocks among the fixtures: the demo indexes from there. */
export const DEMO_START_SLOT = 332_254_855;

/** Options of the demo. */
export type DemoOptions = { port: number; syntheticTps: number; slotMs: number; fixtures?: string };

/** Starts the local chain; returns the environment that points slotline at it, and its close function. */
export async function startDemoChain(
  opts: DemoOptions,
): Promise<{ env: Record<string, string>; close(): Promise<void>; rpcUrl: string }> {
  // Loaded on demand: the other commands never pay for the local chain's modules.
  const { createChain, fixtureFolders } = await import("../../devchain/index.js");
  const chain = await createChain({
    port: opts.port,
    syntheticTps: opts.syntheticTps,
    slotMs: opts.slotMs,
    svmActivity: true,
    fixtures: opts.fixtures ? fixtureFolders(opts.fixtures) : undefined,
    log: (m: string) => process.stderr.write(`chain: ${m}\n`),
  });
  return {
    rpcUrl: chain.rpcUrl,
    close: () => chain.close(),
    env: {
      SOLANA_RPC_URL: chain.rpcUrl,
      SOLANA_WS_URL: chain.wsUrl,
      START_SLOT: String(DEMO_START_SLOT),
      // The local chain has no rate limit; the defaults protect public endpoints.
      RPC_MAX_RPS: "5000",
      RPC_CONCURRENCY: "16",
      FINALITY_INTERVAL_MS: "2000",
    },
  };
}

/** The demo's own database (on the configured server) and Redis key prefix. */
export const DEMO_DATABASE = "slotline_demo";
export const DEMO_QUEUE_PREFIX = "slotline-demo";

/**
 * The settings that point the demo at its own state: `DATABASE_URL`'s server and credentials with database
 * slotline_demo, and the Redis prefix slotline-demo (main.ts also drops DATABASE_READ_URL: the API reads the same).
 * @dev every run starts a new local chain whose slots carry the same numbers with other contents: the previous run's
 * rows are another chain's (ingest rightly halts on them with deep_reorg), and a database the user configured for
 * real data must never meet the demo's.
 */
export function demoEnvironment(databaseUrl: string): { DATABASE_URL: string; QUEUE_PREFIX: string } {
  const url = new URL(databaseUrl);
  url.pathname = `/${DEMO_DATABASE}`;
  return { DATABASE_URL: url.toString(), QUEUE_PREFIX: DEMO_QUEUE_PREFIX };
}

/** Drops the demo's database (the migrations create it again) and deletes the Redis keys under its prefix. */
export async function resetDemoState(databaseUrl: string, redisUrl: string): Promise<void> {
  const { default: pg } = await import("pg");
  const { Redis } = await import("ioredis");
  const admin = new URL(databaseUrl);
  const name = decodeURIComponent(admin.pathname.slice(1));
  if (name !== DEMO_DATABASE) throw new Error(`refusing to drop ${name}: the demo drops only ${DEMO_DATABASE}`);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString(), application_name: "slotline-demo" });
  client.on("error", () => {});
  await client.connect();
  try {
    // (force): a previous demo killed without its shutdown may have left sessions behind
    await client.query(`drop database if exists "${DEMO_DATABASE}" with (force)`);
  } finally {
    await client.end();
  }
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on("error", () => {});
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${DEMO_QUEUE_PREFIX}:*`, "COUNT", 1000);
      if (keys.length) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

/** Registers `demo` on the program. */
export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description(
      "local chain (real mainnet blocks + cloned live load) -> migrate -> ingest + worker + GraphQL API, filled live; Ctrl-C stops",
    )
    .option("--chain-port <n>", "local chain HTTP port (WebSocket on port + 1)", (v: string) => Number(v), 8899)
    .option(
      "--synthetic-tps <n>",
      "transactions per second in new slots, cloned from mainnet",
      (v: string) => Number(v),
      200,
    )
    .option("--slot-ms <n>", "a new slot every n ms", (v: string) => Number(v), 400)
    .option("--fixtures <dir>", "recorded mainnet data laid out as ../shared/fixtures (default: beside the project)")
    .action(async (opts: { chainPort: number; syntheticTps: number; slotMs: number; fixtures?: string }) => {
      // The demo's own database and Redis prefix, new every run (demoEnvironment).
      let own: ReturnType<typeof demoEnvironment>;
      try {
        const config = parseConfig(env);
        // both must answer: the demo resets its own database and Redis keys before it starts
        await checkServices(config, { postgres: "required", redis: "required" });
        own = demoEnvironment(config.DATABASE_URL);
        await resetDemoState(own.DATABASE_URL, config.REDIS_URL);
      } catch (err) {
        return fail(err);
      }
      delete env.DATABASE_READ_URL;
      const chain = await startDemoChain({
        port: opts.chainPort,
        syntheticTps: opts.syntheticTps,
        slotMs: opts.slotMs,
        fixtures: opts.fixtures,
      });
      Object.assign(env, chain.env, own, {
        LOG_FORMAT: env.LOG_FORMAT ?? "pretty",
        LOG_LEVEL: env.LOG_LEVEL ?? "warn",
      });
      await withContext("slotline-demo", async (ctx) => {
        ctx.shutdown.add(() => chain.close());
        const done = runDaemon(ctx, { ingest: true, worker: true, api: true });
        const base = `http://127.0.0.1:${ctx.config.API_PORT}`;
        const url = `${base}/graphql`;
        const { DASHBOARD_QUERY } = await import("../../api/server/index.js");
        process.stdout.write(
          `\nslotline demo\n  local chain   ${chain.rpcUrl} (real mainnet blocks from slot 332254855, then ${opts.syntheticTps} tx/s cloned)\n` +
            `  database      ${ctx.config.DATABASE_URL.replace(/:[^:@/]*@/, ":***@")} (new for this run; Redis prefix ${own.QUEUE_PREFIX})\n` +
            `${servedUrls(base)}\n` +
            `Try this dashboard query (GraphiQL, or curl below):\n\n${DASHBOARD_QUERY}\n\n` +
            `curl -s ${url} -H 'content-type: application/json' -d '${JSON.stringify({ query: DASHBOARD_QUERY.replace(/\s+/g, " ") })}'\n\n` +
            `DATABASE_URL=<the database above> QUEUE_PREFIX=${own.QUEUE_PREFIX} npx slotline status   # in another terminal: the resume point climbing\nCtrl-C stops.\n\n`,
        );
        return done;
      });
    });
}
