/**
 * How the store writes values as parameter text: amounts as decimal strings, times as ISO text, and a whole column
 * of rows as one Postgres array literal (an `unnest` parameter).
 */
import { cleanText } from "./strings.js";

/** An amount (u64/u128) as its decimal text; null stays null. */
export const str = (v: bigint | null | undefined) => (v == null ? null : v.toString());

/** The last time written and its ISO text: a block's rows share one block time, and toISOString is not free. */
let lastTime = Number.NaN;
let lastIso = "";
export const time = (d: Date | null | undefined) => {
  if (d == null) return null;
  const t = d.getTime();
  if (t !== lastTime) {
    lastIso = d.toISOString();
    lastTime = t;
  }
  return lastIso;
};

/** A quote or backslash (escaped in a literal), U+0000 or any surrogate (the string policy's concern, strings.ts). */
const SPECIAL = /["\\\u0000\ud800-\udfff]/;

/**
 * One column of `rows` as a Postgres array literal: `{"a","b",NULL}`, numbers and booleans bare.
 * @dev what node-postgres builds from a JS array, without its per-element type checks and two regex replaces: a
 * batch of 6,400 transactions carries ~150,000 values, and pg's array serialization was 4-5% of a busy worker.
 * Nearly every value is base58, a decimal or an ISO time, so the column is built as is and its strings are tested
 * once, all together; only a column with something to clean or escape is built again, value by value (with a test
 * per value this was 9.7% of a busy worker's CPU under the ingest throughput entry, 7.0-7.6% so).
 */
export function arrayLiteral<T>(rows: T[], get: (row: T) => unknown, clean: boolean): string {
  return literal(rows, get, null) ?? literal(rows, get, clean)!;
}

/**
 * arrayLiteral's builder. `careful` null: the values as they are, or null when one needs cleaning or escaping;
 * otherwise each value escaped, and cleaned under the string policy (strings.ts) when `careful` is true (jsonb values
 * are cleaned by jsonbText in their getter).
 */
function literal<T>(rows: T[], get: (row: T) => unknown, careful: boolean | null): string | null {
  let out = "{";
  let texts = "";
  for (let i = 0; i < rows.length; i++) {
    if (i > 0) out += ",";
    const v = get(rows[i]!);
    if (v === null || v === undefined) out += "NULL";
    else if (typeof v === "number" || typeof v === "boolean") out += String(v);
    else if (careful === null) {
      const s = String(v);
      // a column whose values need care (jsonb, nested literals) is built carefully from its first value on
      if (texts === "" && SPECIAL.test(s)) return null;
      texts += s;
      out += `"${s}"`;
    } else {
      const s = careful ? cleanText(String(v)) : String(v);
      out += s.includes('"') || s.includes("\\") ? `"${s.replace(/[\\"]/g, "\\$&")}"` : `"${s}"`;
    }
  }
  return careful === null && SPECIAL.test(texts) ? null : `${out}}`;
}

const BASE58 = /^[1-9A-HJ-NP-Za-km-z]+$/;

/** A list of keys as a text[] literal; a key (32-44 base58 characters) goes bare, so the column needs no escaping. */
export const textArray = (xs: string[]) =>
  `{${xs.map((x) => (x.length >= 32 && BASE58.test(x) ? x : `"${x.replace(/[\\"]/g, "\\$&")}"`)).join(",")}}`;
