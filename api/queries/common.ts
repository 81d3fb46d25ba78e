/** Shared pieces of the read queries: ranges and the orderings every chronological list uses. */
import type { OrderSpec } from "../sql/page.js";
import { type Fragment, raw, sql } from "../sql/sql.js";

/** An inclusive slot range. */
export type SlotRange = { gte?: number | null; lte?: number | null };
/** An inclusive time range. */
export type TimeRange = { gte?: Date | null; lte?: Date | null };

/** Conditions for an inclusive range on a column of alias `t`. */
export function rangeFilters(
  column: string,
  r: SlotRange | TimeRange | null | undefined,
  cast: "int8" | "timestamptz",
): Fragment[] {
  const out: Fragment[] = [];
  if (r?.gte != null) out.push(sql`${raw(column)} >= ${r.gte}::${raw(cast)}`);
  if (r?.lte != null) out.push(sql`${raw(column)} <= ${r.lte}::${raw(cast)}`);
  return out;
}

/**
 * Chronological order of rows tied to an instruction: slot, position in block, instruction path (each list selects all
 * three).
 */
export const BY_INSTRUCTION: OrderSpec = {
  name: "slot",
  cols: [
    { expr: "t.slot", type: "int", as: "slot" },
    { expr: "t.tx_index", type: "int", as: "txIndex" },
    { expr: "t.instruction_path", type: "text", as: "instructionPath" },
  ],
};

/** Groups rows by a key, keeping one (possibly empty) list per requested key, in key order. */
export function groupBy<T>(keys: readonly string[], rows: T[], keyOf: (r: T) => string): T[][] {
  const m = new Map<string, T[]>(keys.map((k) => [k, []]));
  for (const r of rows) m.get(keyOf(r))?.push(r);
  return keys.map((k) => m.get(k) ?? []);
}

/** Aligns rows to keys (null where missing), as DataLoader needs. */
export function alignBy<T>(
  keys: readonly (string | number)[],
  rows: T[],
  keyOf: (r: T) => string | number,
): (T | null)[] {
  const m = new Map(rows.map((r) => [keyOf(r), r]));
  return keys.map((k) => m.get(k) ?? null);
}
