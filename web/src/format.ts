/**
 * Display of the API's values. Amounts stay strings end to end (never a JS number): the API sends them raw and with
 * decimals applied; the page shows the latter grouped and shortened, and the raw value on hover (title).
 */

/** Groups the integer part of a decimal string and keeps at most `maxFraction` fraction digits (truncated). */
export function decimal(s: string | null | undefined, maxFraction = 6): string {
  if (s == null) return "–";
  const neg = s.startsWith("-");
  const [int = "0", frac = ""] = (neg ? s.slice(1) : s).split(".");
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  let f = frac.slice(0, maxFraction).replace(/0+$/, "");
  // a small non-zero value keeps its first significant digits rather than showing 0
  if (!f && /[1-9]/.test(frac) && int === "0") f = frac.slice(0, frac.search(/[1-9]/) + 3).replace(/0+$/, "");
  return `${neg ? "-" : ""}${grouped}${f ? `.${f}` : ""}`;
}

/** A USD figure: cents above 1, significant digits below; a loss as -$1.23. */
export function usd(s: string | null | undefined): string {
  if (s == null) return "–";
  const neg = s.startsWith("-");
  const abs = neg ? s.slice(1) : s;
  const [int = "0"] = abs.split(".");
  const shown = decimal(abs, int === "0" ? 8 : 2);
  return `${neg && /[1-9]/.test(shown) ? "-" : ""}$${shown}`;
}

/** Short form of a base58 address or signature. */
export const short = (s: string | null | undefined, n = 4) =>
  s == null ? "–" : s.length <= 2 * n + 1 ? s : `${s.slice(0, n)}…${s.slice(-n)}`;

/** A time in the viewer's own zone (the API sends ISO 8601 with an offset). */
export function time(iso: string | null | undefined): string {
  if (!iso) return "–";
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

/** A token's label: its symbol, else its short mint. */
export const symbolOf = (t: { symbol?: string | null } | null | undefined, mint: string) => t?.symbol || short(mint);

/**
 * The product of two decimal strings, exact, as a decimal string with `scale` fraction digits (a holding's USD value:
 * amount × price, never through a float).
 */
export function multiply(a: string, b: string, scale = 2): string {
  const parse = (x: string) => {
    const neg = x.startsWith("-");
    const [i = "0", f = ""] = (neg ? x.slice(1) : x).split(".");
    return { n: BigInt(`${neg ? "-" : ""}${i}${f}` || "0"), d: f.length };
  };
  const x = parse(a);
  const y = parse(b);
  const p = x.n * y.n;
  const shift = x.d + y.d - scale;
  const v = shift >= 0 ? p / 10n ** BigInt(shift) : p * 10n ** BigInt(-shift);
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(scale + 1, "0");
  const out = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return neg ? `-${out}` : out;
}

/** Sum of decimal strings with `scale` fraction digits (each already at that scale, as multiply returns them). */
export function sum(values: string[], scale = 2): string {
  const t = values.reduce((acc, v) => acc + BigInt(v.replace(".", "")), 0n);
  const digits = (t < 0n ? -t : t).toString().padStart(scale + 1, "0");
  return `${t < 0n ? "-" : ""}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/** A percent figure with two fraction digits and its sign ("+12.5%", "-3.07%"). */
export function pct(s: string | null | undefined): string {
  if (s == null) return "–";
  const d = decimal(s, 2);
  return `${/^[0-9]/.test(d) && /[1-9]/.test(d) ? "+" : ""}${d}%`;
}

/** A raw integer amount with `decimals` applied (string arithmetic), or null while the decimals are unknown. */
export function applyDecimals(raw: string, decimals: number | null | undefined): string | null {
  if (decimals == null) return null;
  if (decimals === 0) return raw;
  const neg = raw.startsWith("-");
  const digits = (neg ? raw.slice(1) : raw).padStart(decimals + 1, "0");
  return `${neg ? "-" : ""}${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
}

/** The exact sum of decimal strings of any scale, at the largest scale among them ("0" for none). */
export function add(values: string[]): string {
  const scale = Math.max(0, ...values.map((v) => v.split(".")[1]?.length ?? 0));
  const t = values.reduce((acc, v) => {
    const neg = v.startsWith("-");
    const [i = "0", f = ""] = (neg ? v.slice(1) : v).split(".");
    const n = BigInt(`${i}${f.padEnd(scale, "0")}`);
    return acc + (neg ? -n : n);
  }, 0n);
  const digits = (t < 0n ? -t : t).toString().padStart(scale + 1, "0");
  const out = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return t < 0n ? `-${out}` : out;
}
