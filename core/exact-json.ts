/**
 * Integer literals past 2^53 in JSON text, found without rounding them: the indexer reads them as decimal text
 * (indexer/source/exact-json.ts), the local chain keeps them verbatim (devchain/lossless-json.ts).
 */

/** True when `v` holds a number that is an integer past 2^53: JSON.parse may have rounded its literal. */
export function holdsUnsafeInteger(v: unknown): boolean {
  if (typeof v === "number") return Number.isInteger(v) && !Number.isSafeInteger(v);
  if (typeof v !== "object" || v === null) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (holdsUnsafeInteger(v[i])) return true;
    return false;
  }
  for (const k in v) if (holdsUnsafeInteger((v as Record<string, unknown>)[k])) return true;
  return false;
}

/**
 * `text` with every integer literal past 2^53 replaced by `wrap(literal)` (a JSON string), or null when it holds
 * none. Strings are skipped whole, so digits inside signatures, keys, logs or token amounts are never touched; a
 * float (a fraction or an exponent) stays as JSON.parse reads it.
 * @dev a character loop: slower than JSON.parse itself, so callers parse first and come here only when
 * holdsUnsafeInteger says the parse may have rounded something.
 */
export function quoteUnsafeIntegers(text: string, wrap: (literal: string) => string): string | null {
  let out = "";
  let last = 0;
  let found = false;
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
          digits = false;
          i++;
        } else break;
      }
      if (digits && i - start >= 16) {
        const lit = text.slice(start, i);
        if (!Number.isSafeInteger(Number(lit))) {
          out += text.slice(last, start) + wrap(lit);
          last = i;
          found = true;
        }
      }
      continue;
    }
    i++;
  }
  return found ? out + text.slice(last) : null;
}
