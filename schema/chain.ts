import { sql } from "drizzle-orm";
import { bigint, boolean, index, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { amount, blockTime, enumCheck } from "./columns.js";
import { primaryKey } from "drizzle-orm/pg-core";

/**
 * Slot states: `pending` (produced, queued, not stored yet), `indexed` (its rows are stored), `skipped`
 * (getBlock said -32007/-32009), `rolled_back` (a confirmed slot that did not finalize).
 * @dev slots that getBlocks leaves out get no row: they produced nothing, and mainnet history has millions.
 */
export const SLOT_STATUSES = ["pending", "indexed", "skipped", "rolled_back"] as const;
export type SlotStatus = (typeof SLOT_STATUSES)[number];

/** One row per stored transaction that invokes a tracked program (votes are never stored). */
export const transactions = pgTable(
  "transactions",
  {
    signature: text("signature").notNull(),
    slot: bigint("slot", { mode: "number" }).notNull(),
    blockTime: blockTime(),
    txIndex: integer("tx_index").notNull(),
    fee: amount("fee").notNull(),
    success: boolean("success").notNull(),
    err: jsonb("err"),
    feePayer: text("fee_payer").notNull(),
    computeUnits: bigint("compute_units", { mode: "number" }),
    programIds: text("program_ids").array().notNull(),
    logTruncated: boolean("log_truncated").notNull().default(false),
  },
  (t) => [
    primaryKey({ name: "transactions_pkey", columns: [t.signature, t.slot] }),
    index("transactions_slot_idx").on(t.slot, t.txIndex),
    index("transactions_block_time_idx").on(t.blockTime),
    index("transactions_fee_payer_idx").on(t.feePayer, t.slot),
    index("transactions_program_ids_idx").using("gin", t.programIds),
  ],
);

/** A `transactions` row to insert. */
export type NewTransaction = typeof transactions.$inferInsert;

/** Per-slot state: the resume point is derived from which slots are `indexed` or `skipped`. */
export const slots = pgTable(
  "slots",
  {
    slot: bigint("slot", { mode: "number" }).primaryKey(),
    status: text("status", { enum: SLOT_STATUSES }).notNull(),
    commitment: text("commitment", { enum: ["confirmed", "finalized"] }),
    blockTime: blockTime(),
    parentSlot: bigint("parent_slot", { mode: "number" }),
    blockhash: text("blockhash"),
    /** the parent's blockhash as the block names it: live ingest checks each block chains to the one before */
    previousBlockhash: text("previous_blockhash"),
    txCount: integer("tx_count").notNull().default(0),
    indexedAt: timestamp("indexed_at", { withTimezone: true }).notNull().default(sql`now()`),
  },
  (t) => [index("slots_status_idx").on(t.status, t.slot), enumCheck("slots_status_check", t.status, SLOT_STATUSES)],
);

/** A `slots` row to insert. */
export type NewSlot = typeof slots.$inferInsert;

/**
 * Which tokens and pools each slot touched, with the pool reserves after the slot's last transaction.
 * @dev the change log that lets a rolled-back slot's effect on `tokens` and `pools` (first/last seen, reserves,
 * last swap) be recomputed exactly from the slots that remain.
 */
export const slotChanges = pgTable(
  "slot_changes",
  {
    slot: bigint("slot", { mode: "number" }).notNull(),
    kind: text("kind", { enum: ["token", "pool"] }).notNull(),
    key: text("key").notNull(),
    txIndex: integer("tx_index").notNull().default(0),
    reserveA: amount("reserve_a"),
    reserveB: amount("reserve_b"),
    swapped: boolean("swapped").notNull().default(false),
  },
  (t) => [
    primaryKey({ name: "slot_changes_pk", columns: [t.slot, t.kind, t.key] }),
    index("slot_changes_key_idx").on(t.kind, t.key, t.slot),
  ],
);

/** A `slot_changes` row to insert. */
export type NewSlotChange = typeof slotChanges.$inferInsert;

/**
 * Signatures fetched one by one (logs mode, address backfill) that mention a tracked program but invoke none:
 * nothing to store, but known to be done, so sweeps and backfills do not fetch them again.
 */
export const passedSignatures = pgTable("passed_signatures", {
  signature: text("signature").primaryKey(),
  slot: bigint("slot", { mode: "number" }).notNull(),
});

/** A `passed_signatures` row to insert. */
export type NewPassedSignature = typeof passedSignatures.$inferInsert;
