/** Reads of `liquidity_events` and `program_events`. */
import type { Reader } from "../sql/reader.js";
import type { ListSpec } from "../sql/page.js";
import { type Fragment, raw, sql } from "../sql/sql.js";
import { BY_INSTRUCTION, type SlotRange, rangeFilters } from "./common.js";

/** A liquidity add or remove. */
export type LiquidityRow = {
  signature: string;
  instructionPath: string;
  pool: string;
  kind: "add" | "remove";
  owner: string;
  amountA: string;
  amountB: string;
  slot: number;
  txIndex: number;
  blockTime: Date | null;
};

/** The liquidity events list; chronological. */
export const LIQUIDITY: ListSpec = {
  from: "liquidity_events t",
  select: `t.signature, t.instruction_path as "instructionPath", t.pool, t.kind, t.owner, t.amount_a as "amountA", t.amount_b as "amountB",
    t.slot, t.tx_index as "txIndex", t.block_time as "blockTime"`,
  orders: { SLOT: BY_INSTRUCTION },
};

/** A decoded Anchor instruction or event. */
export type ProgramEventRow = {
  signature: string;
  instructionPath: string;
  kind: "instruction" | "event" | "cpi_event";
  name: string;
  ordinal: number;
  programId: string;
  data: unknown;
  slot: number;
  txIndex: number;
  blockTime: Date | null;
};

const EVENT_SELECT = `t.signature, t.instruction_path as "instructionPath", t.kind, t.name, t.ordinal, t.program_id as "programId",
  t.data, t.slot, t.tx_index as "txIndex", t.block_time as "blockTime"`;

/** The program events list; chronological, then by the natural key's remaining columns. */
export const PROGRAM_EVENTS: ListSpec = {
  from: "program_events t",
  select: EVENT_SELECT,
  orders: {
    SLOT: {
      name: "slot",
      cols: [
        { expr: "t.slot", type: "int" },
        { expr: "t.tx_index", type: "int" },
        { expr: "t.instruction_path", type: "text" },
        { expr: "t.kind", type: "text" },
        { expr: "t.name", type: "text" },
        { expr: "t.ordinal", type: "int" },
      ],
    },
  },
};

/** Filters of `programEvents(where:)`. */
export type ProgramEventWhere = {
  programId?: string | null;
  name?: string | null;
  kind?: ProgramEventRow["kind"] | null;
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
export function programEventsBySignature(reader: Reader, signatures: readonly string[]): Promise<ProgramEventRow[]> {
  return reader.rows<ProgramEventRow>(
    sql`select ${raw(EVENT_SELECT)} from program_events t where t.signature = any(${signatures}::text[])
        order by t.signature, string_to_array(t.instruction_path, '.')::int[], t.kind, t.name, t.ordinal`,
  );
}
