/** `slotline start | ingest | worker`: the daemons, each running its parts of the pipeline (cli/daemon.ts). */
import type { Command } from "commander";
import { runDaemon } from "../daemon.js";
import { withContext } from "../run.js";
import { servedUrls } from "./api.js";

// Postgres must answer (migrations run first); Redis may come later: the daemons wait for it and reconnect.
const NEEDS = { postgres: "required", redis: "waitFor" } as const;

/** Registers `start`, `ingest` and `worker` on the program. */
export function registerDaemons(program: Command): void {
  program
    .command("start")
    .description("run ingest, worker and the GraphQL API in one process (small deployments)")
    .action(() =>
      withContext(
        "slotline-start",
        (ctx) => {
          // the API listens on every interface at API_PORT (startApi), once the migrations have run
          process.stdout.write(`slotline start\n${servedUrls(`http://127.0.0.1:${ctx.config.API_PORT}`)}`);
          return runDaemon(ctx, { ingest: true, worker: true, api: true });
        },
        NEEDS,
      ),
    );
  program
    .command("ingest")
    .description(
      "follow the chain (slot subscription + getBlocks) and enqueue blocks for the workers; one process leads, others wait",
    )
    .action(() => withContext("slotline-ingest", (ctx) => runDaemon(ctx, { ingest: true, worker: false }), NEEDS));
  program
    .command("worker")
    .description("fetch, decode and store queued blocks; run any number, on any machine")
    .option("--concurrency <n>", "jobs processed at once (default WORKER_CONCURRENCY)", (v) => Number(v))
    .action((opts: { concurrency?: number }) =>
      withContext(
        "slotline-worker",
        (ctx) => runDaemon(ctx, { ingest: false, worker: true, concurrency: opts.concurrency }),
        NEEDS,
      ),
    );
}
