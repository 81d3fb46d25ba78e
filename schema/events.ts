import { bigint, index, integer, jsonb, pgTable, text, unique } from "drizzle-orm/pg-core";
import { blockTime, enumCheck } from "./columns.js";

/** Kinds of program event: a decoded instruction, a `Program data:` log event, or an `emit_cpi!` event. */
export const PROGRAM_EVENT_KINDS = ["instruction", "event", "cpi_event"] as const;

/** Decoded instructions and events of IDL-configured (Anchor) programs. */
export const programEvents = pgTable(
  "program_events",
  {
    signature: text("signature").notNull(),
    instructionPath: text("instruction_path").notNull(),
    kind: text("kind", { enum: PROGRAM_EVENT_KINDS }).notNull(),
    name: text("name").notNull(),
    /** @dev position among events of the same name under one instruction, so repeated events stay distinct */
    ordinal: integer("ordinal").notNull().default(0),
    programId: text("program_id").notNull(),
    data: jsonb("data").notNull(),
    slot: bigint("slot", { mode: "number" }).notNull(),
    txIndex: integer("tx_index").notNull(),
    blockTime: blockTime(),
  },
  (t) => [
    enumCheck("program_events_kind_check", t.kind, PROGRAM_EVENT_KINDS),
    unique("program_events_natural_key").on(t.signature, t.instructionPath, t.kind, t.name, t.ordinal, t.slot),
    index("program_events_program_idx").on(t.programId, t.slot, t.txIndex),
    index("program_events_slot_idx").on(t.slot),
  ],
);

/** A `program_events` row to insert. */
export type NewProgramEvent = typeof programEvents.$inferInsert;
