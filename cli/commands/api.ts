/** `slotline api`: serve the GraphQL API alone (read-only; run any number). */
import type { Command } from "commander";
import { startApi, untilShutdown } from "../daemon.js";
import { withContext } from "../run.js";

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
          process.stdout.write(`GraphQL API at ${api.url}\n`);
          await untilShutdown(ctx);
        },
        // the API reads Postgres, and Redis for events and status (it waits for Redis)
        { postgres: "required", redis: "waitFor" },
      ),
    );
}
