/** DeadLetter: the newest jobs that failed deterministically and wait for `slotline dead-letters retry`. */
import { builder } from "./builder.js";
import { type DeadLetterRecord, newestDeadLetters } from "../queries/index.js";

/**
 * How many `deadLetters` lists, fixed: the guards price a plain list at listMultiplier (10) items, so a page size
 * chosen by the client would be underpriced; the CLI lists the rest.
 */
export const DEAD_LETTERS_SHOWN = 10;

/** Characters of a job's error served: a stack trace stays in the table and the log. */
const ERROR_CHARS = 500;

const DeadLetter = builder.objectRef<DeadLetterRecord>("DeadLetter").implement({
  description: "A job that failed deterministically (its payload stays in Postgres for the replay).",
  fields: (t) => ({
    id: t.exposeInt("id"),
    queue: t.exposeString("queue"),
    jobId: t.exposeString("jobId"),
    jobName: t.exposeString("jobName"),
    error: t.string({
      description: `the job's error, its first ${ERROR_CHARS} characters`,
      resolve: (d) => d.error.slice(0, ERROR_CHARS),
    }),
    attempts: t.exposeInt("attempts"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

builder.queryField("deadLetters", (t) =>
  t.field({
    type: [DeadLetter],
    description: `The ${DEAD_LETTERS_SHOWN} newest dead letters not retried yet, newest first (\`slotline dead-letters list\` shows all).`,
    resolve: (_r, _a, ctx) => newestDeadLetters(ctx.reader, DEAD_LETTERS_SHOWN),
  }),
);
