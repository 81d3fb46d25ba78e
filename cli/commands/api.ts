/** `slotline api`: serve the GraphQL API alone (read-only; run any number). */
import type { Command } from "commander";
import { startApi, untilShutdown } from "../daemon.js";
import { withContext } from "../run.js";

/**
 * The addresses a process serving the API prints on start: the dashboard, the operator console and GraphQL, each
 * under `base` (http://host:port, no trailing slash).
 */
export function servedUrls(base: string): string {
  return (
    `  Dashboard     ${base}/\n` +
    `  Console       ${base}/console\n` +
    `  GraphQL       ${base}/graphql (GraphiQL in the browser)\n`
  );
}

/** Registers `api` on the program. */
export function registerApi(program: Command): void {
  program
    .command("api")
    .description("serve the GraphQL API on API_PORT (/graphql, /health, /ready, /metrics); read-only, run any number")
    .action(() =>
      withContext(
        "slotline-api",
        async (ctx) => {
          const api = await startApi(ctx);
          ctx.shutdown.add(() => api.close());
          process.stdout.write(`slotline api\n${servedUrls(api.url)}`);
          await untilShutdown(ctx);
        },
        // the API reads Postgres, and Redis for events and status (it waits for Redis)
        { postgres: "required", redis: "waitFor" },
      ),
    );
}
