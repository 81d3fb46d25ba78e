/** `slotline dead-letters list|retry`: inspect work that failed deterministically, and replay it. */
import type { Command } from "commander";
import { createRedis } from "../../core/redis.js";
import type { Context } from "../../core/context.js";
import { createBlockQueue } from "../../indexer/queue/index.js";
import { createStore } from "../../indexer/store/index.js";
import { EXIT, withContext } from "../run.js";
import type { BlockQueue, BlockJob } from "../../indexer/queue/index.js";

/** One dead letter as listed. */
export type DeadLetter = {
  id: number;
  queue: string;
  jobId: string;
  error: string;
  attempts: number;
  createdAt: string;
  payload: BlockJob;
};

/** Dead letters not yet retried, newest first. */
export async function listDeadLetters(ctx: Pick<Context, "db">, limit = 100): Promise<DeadLetter[]> {
  const r = await ctx.db.$client.query<{
    id: number;
    queue: string;
    job_id: string;
    error: string;
    attempts: number;
    created_at: string;
    payload: BlockJob;
  }>(
    `select id, queue, job_id, error, attempts, to_json(created_at)#>>'{}' as created_at, payload from dead_letters
     where retried_at is null order by created_at desc limit $1`,
    [limit],
  );
  return r.rows.map((x) => ({
    id: x.id,
    queue: x.queue,
    jobId: x.job_id,
    error: x.error,
    attempts: x.attempts,
    createdAt: x.created_at,
    payload: x.payload,
  }));
}

/**
 * Re-enqueues dead letters (all, or the given ids) under new job ids, and marks them retried.
 * @dev the failed job keeps its id in Redis, so the retry uses `<id>-retry-<n>`; the store's upserts make a
 * replay of work that did partly land harmless.
 */
export async function retryDeadLetters(ctx: Pick<Context, "db">, queue: BlockQueue, ids?: number[]): Promise<number> {
  const r = await ctx.db.$client.query<{ id: number; job_id: string; payload: BlockJob }>(
    `select id, job_id, payload from dead_letters where retried_at is null and ($1::int[] is null or id = any($1::int[])) order by id`,
    [ids && ids.length ? ids : null],
  );
  if (r.rows.length === 0) return 0;
  await queue.enqueue(r.rows.map((d) => ({ id: `${d.job_id}-retry-${Date.now()}`, data: d.payload })));
  await createStore(ctx).markDeadLettersRetried(r.rows.map((d) => d.id));
  return r.rows.length;
}

/** Registers `dead-letters list | retry` on the program. */
export function registerDeadLetters(program: Command): void {
  const deadLetters = program
    .command("dead-letters")
    .description("work that failed deterministically: list it, or replay it");
  deadLetters
    .command("list")
    .description("dead letters not yet retried, newest first")
    .option("--json", "print JSON")
    .option("--limit <n>", "at most n", (v: string) => Number(v), 100)
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
        const redis = createRedis(ctx.config, { maxRetriesPerRequest: null });
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
}
