/**
 * Token.priceCandles: a token's USD price over about the last day in minute-scale buckets (M1, M5), read from the
 * pricing stage's price history. Token.usdCandles (api/graph/market.ts) answers hours and days from the rollups, with
 * each bucket's volume and trades; the two differ in width and in what a bucket carries, not in the prices.
 */
import { builder } from "./builder.js";
import { trimDecimal } from "./format.js";
import { type PriceCandleRecord, type TokenRecord, groupBy, priceCandles } from "../queries/index.js";
import { reads } from "./reads.js";
import { CandleInterval } from "./pool.js";
import { Token } from "./refs.js";

const INTERVAL_SECONDS = { M1: 60, M5: 300, H1: 3_600, D1: 86_400 } as const;
/** The window: 216,000 slots, 24 hours at the target 400 ms a slot, before the token's newest price. */
export const PRICE_WINDOW_SLOTS = 216_000;

const PriceCandle = builder.objectRef<PriceCandleRecord>("PriceCandle").implement({
  description: "One bucket of a token's USD price per whole token, as decimal strings.",
  fields: (t) => ({
    start: t.field({ type: "DateTime", resolve: (c) => c.bucket }),
    open: t.string({ resolve: (c) => trimDecimal(c.open) ?? c.open }),
    high: t.string({ resolve: (c) => trimDecimal(c.high) ?? c.high }),
    low: t.string({ resolve: (c) => trimDecimal(c.low) ?? c.low }),
    close: t.string({ resolve: (c) => trimDecimal(c.close) ?? c.close }),
    points: t.exposeInt("points", { description: "prices set in the bucket (one per slot that moved a pool of it)" }),
  }),
});

builder.objectField(Token, "priceCandles", (t) =>
  t.loadableList({
    type: PriceCandle,
    description: `USD price buckets (M1 to D1; usdCandles gives hours and days with volume and trades) over the ${PRICE_WINDOW_SLOTS.toLocaleString("en-US")} slots (about 24 hours) before the token's newest price; buckets without a price are left out, and so is a token whose decimals are unknown.`,
    byPath: true,
    extensions: reads<TokenRecord>("mint", "decimals"),
    args: { interval: t.arg({ type: CandleInterval, required: true }) },
    load: async (keys: string[], ctx, args) => {
      const known = keys.flatMap((k) => {
        const [mint = "", d = ""] = k.split(":");
        return d === "" ? [] : [{ mint, decimals: Number(d) }];
      });
      const rows = known.length
        ? await priceCandles(ctx.reader, known, INTERVAL_SECONDS[args.interval], PRICE_WINDOW_SLOTS)
        : [];
      return groupBy(
        keys.map((k) => k.split(":")[0]!),
        rows,
        (r) => r.mint,
      );
    },
    resolve: (tok) => `${tok.mint}:${tok.decimals ?? ""}`,
  }),
);
