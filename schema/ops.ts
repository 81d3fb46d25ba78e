import { sql } from "drizzle-orm";
import { enumCheck } from "./columns.js";
import { bigint, index, integer, jsonb, pgTable, serial, text, timestamp, unique } from "drizzle-orm/pg-core";

/** Cursor kinds: the live ingest resume point, one backfill's progress, the pricing stage's, or the retention floor. */
export const CURSOR_KINDS = ["live", "backfill", "pricing", "retention"] as const;
/** Cursor states. */
export const CURSOR_STATUSES = ["running", "paused", "done", "failed"] as const;

/**
 * Resumable progress of live ingest (`id = 'live'`), of each backfill (`id = 'backfill-<hash>'`) and of the pricing
 * stage (`id = 'pricing'`: every slot at or below it is priced) and the retention floor (`id = 'retention'`: the raw
 * rows of every slot below it were dropped with their partitions, and no slot below it is stored again).
 */
export const cursors = pgTable(
  "cursors",
  {
    id: text("id").primaryKey(),
    kind: text("kind", { enum: CURSOR_KINDS }).notNull(),
    status: text("status", { enum: CURSOR_STATUSES }).notNull().default("running"),
    /** @dev live: highest slot below which every produced slot is stored; backfill: the next slot or signature to do */
    slot: bigint("slot", { mode: "number" }),
    position: text("position"),
    params: jsonb("params").notNull().default(sql`'{}'::jsonb`),
    done: bigint("done", { mode: "number" }).notNull().default(0),
    total: bigint("total", { mode: "number" }),
    error: text("error"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().default(sql`now()`),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().default(sql`now()`),
  },
  (t) => [
    enumCheck("cursors_kind_check", t.kind, CURSOR_KINDS),
    enumCheck("cursors_status_check", t.status, CURSOR_STATUSES),
  ],
);

/** A `cursors` row to insert. */
export type NewCursor = typeof cursors.$inferInsert;

/** Work that failed deterministically, with the payload needed to replay it. */
export const deadLetters = pgTable(
  "dead_letters",
  {
    id: serial("id").primaryKey(),
    queue: text("queue").notNull(),
    jobId: text("job_id").notNull(),
    jobName: text("job_name").notNull(),
    payload: jsonb("payload").notNull(),
    error: text("error").notNull(),
    attempts: integer("attempts").notNull().default(0),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().default(sql`now()`),
    retriedAt: timestamp("retried_at", { withTimezone: true }),
  },
  (t) => [unique("dead_letters_natural_key").on(t.queue, t.jobId), index("dead_letters_created_idx").on(t.createdAt)],
);

/** A `dead_letters` row to insert. */
export type NewDeadLetter = typeof deadLetters.$inferInsert;
