/** Reads behind `Token.priceCandles`: a mint's USD price history (token_prices, written by the pricing stage). */
import { type Reader, sql } from "../sql/index.js";

/** One bucket of a mint's USD price per whole token (decimal strings). */
export type PriceCandleRecord = {
  mint: string;
  bucket: Date;
  open: string;
  high: string;
  low: string;
  close: string;
  points: number;
};

/**
 * OHLC buckets of `seconds` of each mint's USD price over the last `slots` slots before its newest price, in one
 * statement; each mint's rows are one range of the (mint, slot) primary key.
 * @dev unit_price_usd is per smallest unit: times 10^decimals (exact numeric) it is per whole token. Prices without a
 * block time (the slot's block time unknown) are left out: they have no bucket.
 */
export function priceCandles(
  reader: Reader,
  mints: readonly { mint: string; decimals: number }[],
  seconds: number,
  slots: number,
): Promise<PriceCandleRecord[]> {
  return reader.rows<PriceCandleRecord>(sql`
    select m.mint, b.bucket, b.open, b.high, b.low, b.close, b.points
    from unnest(${mints.map((m) => m.mint)}::text[], ${mints.map((m) => m.decimals)}::int4[]) as m(mint, decimals)
    cross join lateral (select max(p.slot) as top from token_prices p where p.mint = m.mint) t
    cross join lateral (
      select date_bin(make_interval(secs => ${seconds}::int), p.block_time, timestamptz '2000-01-01 00:00:00+00') as bucket,
        ((array_agg(p.unit_price_usd order by p.slot))[1] * power(10::numeric, m.decimals))::text as open,
        (max(p.unit_price_usd) * power(10::numeric, m.decimals))::text as high,
        (min(p.unit_price_usd) * power(10::numeric, m.decimals))::text as low,
        ((array_agg(p.unit_price_usd order by p.slot desc))[1] * power(10::numeric, m.decimals))::text as close,
        count(*)::int as points
      from token_prices p
      where p.mint = m.mint and p.slot > t.top - ${slots}::int8 and p.slot <= t.top and p.block_time is not null
      group by 1
    ) b
    order by m.mint, b.bucket`);
}
