/**
 * How every command runs: parse the config once, probe the services it needs, build the context, install the signal
 * and crash handlers, run the body, map failures to exit codes, and always shut down.
 */
import { ConfigError, type Config, parseConfig } from "../core/config.js";
import { type Context, createContext } from "../core/context.js";
import { describeServiceProblem, probePostgres, probeRedis, type ServiceProblem } from "../core/services.js";

/** Exit codes: 0 ok, 1 runtime failure, 2 bad configuration or arguments. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** The environment commands read (through parseConfig only); `demo` points it at its own chain and database. */
export const env = process.env;

/** Prints a configuration error (every bad key) or another error, and exits with its code. */
export function fail(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\nSee .env.example for every key and its default.\n`);
    process.exit(EXIT.usage);
  }
  process.stderr.write(`error: ${(err as Error).message}\n`);
  process.exit(EXIT.failure);
}

/** The configuration, or exit 2 naming every bad key. */
export function configOrExit(): Config {
  try {
    return parseConfig(env);
  } catch (err) {
    return fail(err);
  }
}

/**
 * Which services a command needs before it starts: `required` ones that do not answer stop it with one line each;
 * `waitFor` ones only warn (the daemons wait for Redis and reconnect, by design).
 */
export type ServiceNeeds = { postgres?: "required" | "existing-database"; redis?: "required" | "waitFor" };

/** Probes the services of `needs`; prints one line per problem; exits 1 if a required one is missing. */
export async function checkServices(config: Config, needs: ServiceNeeds): Promise<void> {
  const [pgProblem, redisProblem] = await Promise.all([
    needs.postgres ? probePostgres(config.DATABASE_URL) : null,
    needs.redis ? probeRedis(config) : null,
  ]);
  const fatal: ServiceProblem[] = [];
  // A missing database is fine where migrations run first (they create it); `status` needs it to exist.
  if (pgProblem && (pgProblem.kind === "unreachable" || needs.postgres === "existing-database")) fatal.push(pgProblem);
  if (redisProblem && needs.redis === "required") fatal.push(redisProblem);
  for (const p of fatal) process.stderr.write(`error: ${describeServiceProblem(p)}\n`);
  if (redisProblem && needs.redis === "waitFor") {
    process.stderr.write(`warning: ${describeServiceProblem(redisProblem)}; waiting for it\n`);
  }
  if (fatal.length) process.exit(EXIT.failure);
}

/** Runs a command body with a context; maps errors to exit codes and always shuts down. */
export async function withContext(
  applicationName: string,
  body: (ctx: Context) => Promise<number | void>,
  needs: ServiceNeeds = {},
): Promise<never> {
  await checkServices(configOrExit(), needs);
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
