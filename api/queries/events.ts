/** Reads of `liquidity_events` and `program_events`. */
import { liquidityEvents, programEvents } from "../../schema/index.js";
import { type Fragment, type ListSpec, type Reader, raw, selectAll, sql } from "../sql/index.js";
import { type RecordOf, type SlotRange, byInstruction, columnsOf, fromOf, rangeFilters } from "./common.js";

/** A liquidity add or remove. */
export type LiquidityEventRecord = RecordOf<typeof liquidityEvents>;

const LIQUIDITY_COLUMNS = columnsOf(liquidityEvents);

/** The liquidity events list; chronological. */
export const LIQUIDITY: ListSpec = {
  from: fromOf(liquidityEvents),
  select: selectAll(LIQUIDITY_COLUMNS),
  orders: { SLOT: byInstruction(LIQUIDITY_COLUMNS) },
};

/** A decoded Anchor instruction or event. */
export type ProgramEventRecord = RecordOf<typeof programEvents>;

const EVENT_COLUMNS = columnsOf(programEvents);
const EVENT_SELECT = selectAll(EVENT_COLUMNS);

/** The program events list; chronological, then by the natural key's remaining columns. */
export const PROGRAM_EVENTS: ListSpec = {
  from: fromOf(programEvents),
  select: EVENT_SELECT,
  orders: {
    SLOT: {
      name: "slot",
      cols: [
        { expr: EVENT_COLUMNS.slot, type: "int" },
        { expr: EVENT_COLUMNS.txIndex, type: "int" },
        { expr: EVENT_COLUMNS.instructionPath, type: "text" },
        { expr: EVENT_COLUMNS.kind, type: "text" },
        { expr: EVENT_COLUMNS.name, type: "text" },
        { expr: EVENT_COLUMNS.ordinal, type: "int" },
      ],
    },
  },
};

/** Filters of `programEvents(where:)`. */
export type ProgramEventWhere = {
  programId?: string | null;
  name?: string | null;
  kind?: ProgramEventRecord["kind"] | null;
  slot?: SlotRange | null;
};

/** SQL conditions for a ProgramEventWhere. */
export function programEventFilters(w: ProgramEventWhere | null | undefined): Fragment[] {
  const out: Fragment[] = [];
  if (w?.programId != null) out.push(sql`t.program_id = ${w.programId}`);
  if (w?.name != null) out.push(sql`t.name = ${w.name}`);
  if (w?.kind != null) out.push(sql`t.kind = ${w.kind}`);
  out.push(...rangeFilters("t.slot", w?.slot, "int8"));
  return out;
}

/** Every program event of each transaction, in one statement. */
export function programEventsBySignature(reader: Reader, signatures: readonly string[]): Promise<ProgramEventRecord[]> {
  return reader.rows<ProgramEventRecord>(
    sql`select ${raw(EVENT_SELECT)} from ${raw(PROGRAM_EVENTS.from)} where t.signature = any(${signatures}::text[])
        order by t.signature, instruction_path_key(t.instruction_path), t.kind, t.name, t.ordinal`,
  );
}
