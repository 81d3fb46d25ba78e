/**
 * Token.priceCandles over the two mainnet blocks priced by the pricing stage: the newest bucket closes at the token's
 * priceUsd, every stored price is in a bucket, open/high/low agree with the rows, and a list of tokens costs one
 * statement. Its hourly buckets hold the same prices as Token.usdCandles, which reads the rollups.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseConfig } from "../../../core/config.js";
import { WSOL_MINT } from "../../../core/presets.js";
import { createPricer } from "../../../indexer/pricing/index.js";
import { type ApiHarness, setupApi } from "./harness.js";

describe("Token.priceCandles", () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await setupApi();
    await createPricer({ db: h.writer, config: parseConfig({}) }).catchUp({ upTo: h.blocks.at(-1)!.slot });
  });
  afterAll(() => h.close());

  test("SOL: buckets of its stored prices per whole token; the last closes at priceUsd", async () => {
    const r = await h.gql(
      `query($m: String!) { token(mint: $m) { priceUsd priceCandles(interval: M1) { start open high low close points } } }`,
      { m: WSOL_MINT },
    );
    expect(r.body.errors).toBeUndefined();
    const { priceUsd, priceCandles } = r.body.data.token;
    const { rows } = await h.sql.query<{ n: number; first: string; hi: string; lo: string }>(
      `select count(*)::int as n,
         ((array_agg(unit_price_usd order by slot))[1] * 1e9)::text as first,
         (max(unit_price_usd) * 1e9)::text as hi, (min(unit_price_usd) * 1e9)::text as lo
       from token_prices where mint = $1 and block_time is not null`,
      [WSOL_MINT],
    );
    expect(rows[0]!.n).toBeGreaterThan(0);
    expect(priceCandles.length).toBeGreaterThan(0);
    expect(priceCandles.reduce((n: number, c: { points: number }) => n + c.points, 0)).toBe(rows[0]!.n);
    const trim = (s: string) => (s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s);
    expect(priceCandles[0].open).toBe(trim(rows[0]!.first));
    expect(priceCandles.at(-1).close).toBe(priceUsd);
    const highs = priceCandles.map((c: { high: string }) => Number(c.high));
    expect(Math.max(...highs)).toBe(Number(rows[0]!.hi));
    expect(Math.min(...priceCandles.map((c: { low: string }) => Number(c.low)))).toBe(Number(rows[0]!.lo));
  });

  test("a page of tokens reads all their price candles in one statement", async () => {
    const q = `{ tokens(first: 50) { edges { node { mint priceCandles(interval: H1) { close } } } } }`;
    h.statements.reset();
    const r = await h.gql(q);
    expect(r.body.errors).toBeUndefined();
    expect(h.statements.texts.filter((t) => t.includes("token_prices"))).toHaveLength(1);
  });

  test("its hourly OHLC equals usdCandles' from the rollups", async () => {
    const r = await h.gql(
      `query($m: String!) { token(mint: $m) { priceCandles(interval: H1) { start open high low close }
         usdCandles(interval: H1) { start open high low close } } }`,
      { m: WSOL_MINT },
    );
    expect(r.body.errors).toBeUndefined();
    // usdCandles rounds to 18 fraction digits, priceCandles keeps every digit: equal as numbers
    const asNumbers = (cs: Record<string, string | null>[]) =>
      cs
        .filter((c) => c.open != null)
        .map((c) => ({
          start: new Date(c.start!).toISOString(),
          ...Object.fromEntries(["open", "high", "low", "close"].map((k) => [k, Number(c[k])])),
        }));
    const { priceCandles, usdCandles } = r.body.data.token;
    expect(priceCandles.length).toBeGreaterThan(0);
    expect(asNumbers(usdCandles)).toEqual(asNumbers(priceCandles));
  });
});
