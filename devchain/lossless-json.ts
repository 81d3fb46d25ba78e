/**
 * JSON parse/stringify that keeps integers above 2^53 exact (u64 lamports, rentEpoch u64::MAX).
 * @dev Such integers are replaced before JSON.parse by a sentinel string and put back, verbatim,
 * by `fixBigInts` after JSON.stringify. Only texts that contain a 16+ digit number pay for the scan.
 */

const SENTINEL = "\u0000u64:";
const MAYBE_BIG = /\d{16,}/;
const SERIALIZED_SENTINEL = /"\\u0000u64:(-?\d+)"/g;

/** Result of a lossless parse: the value and whether any big integer was kept as a sentinel. */
export type LosslessParse = { value: unknown; hasBigInts: boolean };

/** Parses JSON; integer literals outside the safe range become sentinel strings. */
export function parseLossless(text: string): LosslessParse {
  if (!MAYBE_BIG.test(text)) return { value: JSON.parse(text), hasBigInts: false };
  let out = "";
  let last = 0;
  let hasBigInts = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 92 /* \ */) i += 2;
        else if (d === 34) break;
        else i++;
      }
      i++;
      continue;
    }
    if ((c >= 48 && c <= 57) || c === 45 /* - */) {
      const start = i;
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if ((d >= 48 && d <= 57) || d === 46 || d === 101 || d === 69 || d === 43 || d === 45) i++;
        else break;
      }
      const lit = text.slice(start, i);
      if (/^-?\d{16,}$/.test(lit) && !Number.isSafeInteger(Number(lit))) {
        out += text.slice(last, start) + JSON.stringify(SENTINEL + lit);
        last = i;
        hasBigInts = true;
      }
      continue;
    }
    i++;
  }
  if (!hasBigInts) return { value: JSON.parse(text), hasBigInts: false };
  out += text.slice(last);
  return { value: JSON.parse(out), hasBigInts: true };
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
