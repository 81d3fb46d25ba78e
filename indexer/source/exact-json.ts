/**
 * JSON.parse that never rounds an integer: one past 2^53 (a lamport balance of an account holding more than 9M SOL,
 * a u64 anywhere) is read as its decimal text, exactly, instead of the nearest double.
 * @dev the scan skips strings whole, so digits inside signatures, keys, logs or token amounts are never touched.
 * Fields that must be numbers (slots, fees, indexes) then fail their checks as out of range, as they should: never a
 * rounded value.
 */

/** True when `v` holds a number that is an integer past 2^53: JSON.parse may have rounded its literal. */
function holdsUnsafe(v: unknown): boolean {
  if (typeof v === "number") return Number.isInteger(v) && !Number.isSafeInteger(v);
  if (typeof v !== "object" || v === null) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (holdsUnsafe(v[i])) return true;
    return false;
  }
  for (const k in v) if (holdsUnsafe((v as Record<string, unknown>)[k])) return true;
  return false;
}

/**
 * Parses `text` as JSON.parse does, except that integer literals beyond Number.MAX_SAFE_INTEGER become strings.
 * @dev JSON.parse first, then a walk of what it made: a literal past 2^53 comes out as an integer-valued double of at
 * least 2^53, which the walk finds; only then is the text scanned for the literals to keep as text (a float as large
 * also sends it there, where it stays a float). The walk costs about a tenth of JSON.parse; the scan, more than
 * JSON.parse itself (a getBlock transaction almost always holds 16-digit runs: the System, Compute Budget and wSOL
 * ids are runs of ones).
 */
export function parseExact(text: string): unknown {
  const plain: unknown = JSON.parse(text);
  return holdsUnsafe(plain) ? scanExact(text) : plain;
}

/** The literals past 2^53 quoted, then parsed. */
function scanExact(text: string): unknown {
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
