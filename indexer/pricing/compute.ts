/**
 * The pricing stage's arithmetic, pure: fixed-point bigints only (no JS number holds an amount or a price), so a
 * price is the same digits on every machine and in every batch split.
 * @dev a unit price is USD per smallest unit scaled by 10^UNIT_SCALE; a USD value is scaled by 10^USD_SCALE. Each
 * computed price is rounded once to its scale and that rounded value is what later slots use, so where a batch
 * ends (and the price is read back from token_prices) changes nothing.
 */

/** Fraction digits of a unit price (USD per smallest unit). */
export const UNIT_SCALE = 36;
/** Fraction digits of a USD value (swap and trade values, liquidity, TVL). */
export const USD_SCALE = 12;
const UNIT = 10n ** BigInt(UNIT_SCALE);
const TO_USD = 10n ** BigInt(UNIT_SCALE - USD_SCALE);

/** a / b rounded half up (a >= 0, b > 0). */
export function divRound(a: bigint, b: bigint): bigint {
  return (2n * a + b) / (2n * b);
}

/** A fixed-point value as a decimal string, trailing zeros trimmed ("1.5", "0", "-2"). */
export function toDecimal(v: bigint, scale: number): string {
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale).replace(/0+$/, "");
  return `${neg ? "-" : ""}${whole}${frac ? `.${frac}` : ""}`;
}

/** A decimal string (as Postgres returns numeric) as a fixed-point bigint at `scale`, rounded half up. */
export function fromDecimal(s: string, scale: number): bigint {
  const neg = s.startsWith("-");
  const [whole = "0", frac = ""] = (neg ? s.slice(1) : s).split(".");
  const kept = frac.slice(0, scale).padEnd(scale, "0");
  let v = BigInt(whole + kept);
  if (frac.length > scale && frac[scale]! >= "5") v += 1n;
  return neg ? -v : v;
}

/** The unit price of a stablecoin with `decimals`: 1 USD per whole token. */
export const stableUnitPrice = (decimals: number): bigint => 10n ** BigInt(UNIT_SCALE - decimals);

/** The USD value (at USD_SCALE) of `amount` smallest units at unit price `price`. */
export const usdValue = (amount: bigint, price: bigint): bigint => divRound(amount * price, TO_USD);

/** A whole number of USD at USD_SCALE. */
export const wholeUsd = (usd: number): bigint => BigInt(usd) * 10n ** BigInt(USD_SCALE);

/**
 * A pool, oriented: `base` and `quote` are what its swaps moved of the mint being priced and of the quote mint (whose
 * unit price is `quotePrice`) in one slot, `quoteReserve` its quote side's reserve.
 */
export type Sides = { base: bigint; quote: bigint; quoteReserve: bigint; quotePrice: bigint };

/**
 * The base mint's unit price (the slot's volume-weighted swap price) and the pool's liquidity (twice its quote
 * reserve in USD), or null when the swaps moved nothing on a side.
 */
export function priceFromSwaps(s: Sides): { price: bigint; liquidity: bigint } | null {
  if (s.base <= 0n || s.quote <= 0n) return null;
  return { price: divRound(s.quote * s.quotePrice, s.base), liquidity: 2n * usdValue(s.quoteReserve, s.quotePrice) };
}

/** A pool's TVL: both sides at their prices, twice the one priced side, or null when neither is priced. */
export function poolTvl(
  reserveA: bigint,
  priceA: bigint | null,
  reserveB: bigint,
  priceB: bigint | null,
): bigint | null {
  const a = priceA == null ? null : usdValue(reserveA, priceA);
  const b = priceB == null ? null : usdValue(reserveB, priceB);
  if (a != null && b != null) return a + b;
  if (a != null) return 2n * a;
  if (b != null) return 2n * b;
  return null;
}

/** Unit prices as the stage knows them: stablecoins fixed, SOL and the rest as last set. */
export type PriceBook = {
  stables: ReadonlyMap<string, bigint>;
  sol: string;
  prices: Map<string, bigint>;
};

/** The unit price of `mint` now, or null when it has none. */
export function priceOf(book: PriceBook, mint: string): bigint | null {
  return book.stables.get(mint) ?? book.prices.get(mint) ?? null;
}

/**
 * The USD value of a swap or trade from one of its two sides: a stablecoin side first, then SOL, then any side with
 * a price (the first given first). Null when neither side has a price.
 * @dev a stablecoin side is exact: 1 USD per whole token, so a USDC-for-X swap is worth its USDC amount.
 */
export function valueOf(book: PriceBook, a: { mint: string; amount: bigint }, b: { mint: string; amount: bigint }) {
  const ranked = [a, b].map((side, i) => ({
    side,
    rank: book.stables.has(side.mint) ? 0 : side.mint === book.sol ? 1 : 2,
    i,
  }));
  ranked.sort((x, y) => x.rank - y.rank || x.i - y.i);
  for (const { side } of ranked) {
    const p = priceOf(book, side.mint);
    if (p != null) return usdValue(side.amount, p);
  }
  return null;
}

/** Whether `quote` may price `base`: a stablecoin prices anything but a stablecoin; SOL prices anything but SOL. */
export function quotes(book: PriceBook, base: string, quote: string): boolean {
  if (book.stables.has(base)) return false;
  if (book.stables.has(quote)) return true;
  return quote === book.sol && base !== book.sol;
}

export { UNIT };
