/**
 * JSON parse/stringify that keeps integers above 2^53 exact (u64 lamports, rentEpoch u64::MAX).
 * @dev Such integers are replaced before JSON.parse by a sentinel string and put back, verbatim,
 * by `fixBigInts` after JSON.stringify. Only texts whose plain parse holds an integer past 2^53 pay for the scan.
 */
import { holdsUnsafeInteger, quoteUnsafeIntegers } from "../core/exact-json.js";

const SENTINEL = "\u0000u64:";
const SERIALIZED_SENTINEL = /"\\u0000u64:(-?\d+)"/g;

/** Result of a lossless parse: the value and whether any big integer was kept as a sentinel. */
export type LosslessParse = { value: unknown; hasBigInts: boolean };

/** Parses JSON; integer literals outside the safe range become sentinel strings. */
export function parseLossless(text: string): LosslessParse {
  const value: unknown = JSON.parse(text);
  if (!holdsUnsafeInteger(value)) return { value, hasBigInts: false };
  const quoted = quoteUnsafeIntegers(text, (lit) => JSON.stringify(SENTINEL + lit));
  return quoted === null ? { value, hasBigInts: false } : { value: JSON.parse(quoted), hasBigInts: true };
}

/** Puts sentinel-kept big integers back as bare JSON numbers in serialized text. */
export function fixBigInts(json: string): string {
  return json.includes("\\u0000u64:") ? json.replace(SERIALIZED_SENTINEL, "$1") : json;
}

/** JSON.stringify followed by fixBigInts. */
export function stringifyLossless(value: unknown): string {
  return fixBigInts(JSON.stringify(value));
}

/** Numeric value of a number or sentinel string (may lose precision; for arithmetic-free uses only). */
export function toNumber(value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value === "string" && value.startsWith(SENTINEL)) return Number(value.slice(SENTINEL.length));
  return Number(value);
}
