/** Exact decimal formatting of raw integer amounts (no floating point anywhere). */

/** `raw / 10^decimals` as a decimal string without trailing zeros: formatUnits("1500000", 6) = "1.5". */
export function formatUnits(raw: string | bigint, decimals: number): string {
  let v = BigInt(raw);
  const neg = v < 0n;
  if (neg) v = -v;
  const s = v.toString().padStart(decimals + 1, "0");
  const int = s.slice(0, s.length - decimals);
  const frac = s.slice(s.length - decimals).replace(/0+$/, "");
  return `${neg ? "-" : ""}${int}${frac ? `.${frac}` : ""}`;
}

/** `numerator / denominator` as a decimal string with at least `significant` significant digits (truncated). */
export function formatRatio(numerator: bigint, denominator: bigint, significant = 18): string | null {
  if (denominator === 0n) return null;
  const digits = (x: bigint) => (x < 0n ? -x : x).toString().length;
  const scale = Math.max(0, significant + digits(denominator) - digits(numerator));
  const q = (numerator * 10n ** BigInt(scale)) / denominator;
  return formatUnits(q, scale);
}

/**
 * The price of token A in token B from a pool's reserves, decimals applied:
 * (reserveB / 10^decimalsB) / (reserveA / 10^decimalsA).
 */
export function reservePrice(reserveA: string, reserveB: string, decimalsA: number, decimalsB: number): string | null {
  const a = BigInt(reserveA) * 10n ** BigInt(decimalsB);
  const b = BigInt(reserveB) * 10n ** BigInt(decimalsA);
  return formatRatio(b, a);
}

/** Trims a Postgres numeric's trailing fractional zeros ("1.2500" -> "1.25", "3.000" -> "3"). */
export function trimDecimal(s: string | null): string | null {
  if (s == null || !s.includes(".")) return s;
  return s.replace(/0+$/, "").replace(/\.$/, "");
}
