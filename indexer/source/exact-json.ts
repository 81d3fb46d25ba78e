/**
 * JSON.parse that never rounds an integer: one past 2^53 (a lamport balance of an account holding more than 9M SOL,
 * a u64 anywhere) is read as its decimal text, exactly, instead of the nearest double.
 * @dev only a text holding a run of 16 digits pays for the scan (a safe integer has at most 16); strings are skipped
 * whole, so digits inside signatures, keys, logs or token amounts are never touched. Fields that must be numbers
 * (slots, fees, indexes) then fail their checks as out of range, as they should: never a rounded value.
 */

const MAYBE_BIG = /\d{16}/;

/** Parses `text` as JSON.parse does, except that integer literals beyond Number.MAX_SAFE_INTEGER become strings. */
export function parseExact(text: string): unknown {
  if (!MAYBE_BIG.test(text)) return JSON.parse(text);
  let out = "";
  let last = 0;
  const n = text.length;
  let i = 0;
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
      let digits = true;
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d >= 48 && d <= 57) i++;
        else if (d === 46 || d === 101 || d === 69 || d === 43 || d === 45) {
          // a fraction or exponent: a float, read as JSON.parse reads it
          digits = false;
          i++;
        } else break;
      }
      if (digits && i - start >= 16) {
        const lit = text.slice(start, i);
        if (!Number.isSafeInteger(Number(lit))) {
          out += `${text.slice(last, start)}"${lit}"`;
          last = i;
        }
      }
      continue;
    }
    i++;
  }
  return last === 0 ? JSON.parse(text) : JSON.parse(out + text.slice(last));
}
