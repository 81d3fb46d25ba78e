/** Trade: what one wallet sold and bought in one transaction, whatever pools and venues the route used. */
import { builder } from "./builder.js";
import type { TradeRecord } from "../queries/index.js";
import { reads } from "./reads.js";
import { Token, Trade, Transaction } from "./refs.js";
import { uiAmount } from "./swap.js";

Trade.implement({
  description:
    "One wallet's trade in one transaction through a tracked DEX or aggregator, from its own balance changes: an " +
    "aggregator route through several pools is one trade. Native and wrapped SOL are both " +
    "So11111111111111111111111111111111111111112; rent, fees and tips beside the trade are not part of it.",
  fields: (t) => ({
    signature: t.exposeString("signature"),
    slot: t.exposeInt("slot"),
    blockTime: t.expose("blockTime", { type: "DateTime", nullable: true }),
    trader: t.exposeString("trader"),
    soldMint: t.exposeString("soldMint"),
    soldAmount: t.expose("soldAmount", { type: "BigInt" }),
    soldAmountUi: t.string({
      nullable: true,
      extensions: reads<TradeRecord>("soldMint", "soldAmount"),
      resolve: (x, _a, ctx) => uiAmount(ctx, x.soldMint, x.soldAmount),
    }),
    soldToken: t.field({
      type: Token,
      nullable: true,
      extensions: reads<TradeRecord>("soldMint"),
      resolve: (x) => x.soldMint,
    }),
    boughtMint: t.exposeString("boughtMint"),
    boughtAmount: t.expose("boughtAmount", { type: "BigInt" }),
    boughtAmountUi: t.string({
      nullable: true,
      extensions: reads<TradeRecord>("boughtMint", "boughtAmount"),
      resolve: (x, _a, ctx) => uiAmount(ctx, x.boughtMint, x.boughtAmount),
    }),
    boughtToken: t.field({
      type: Token,
      nullable: true,
      extensions: reads<TradeRecord>("boughtMint"),
      resolve: (x) => x.boughtMint,
    }),
    valueUsd: t.exposeString("valueUsd", {
      nullable: true,
      description:
        "USD value as a decimal string (a stablecoin side at 1 USD, else the SOL side, else a priced side, at prices " +
        "as of the slot); null until the pricing stage reaches the slot, or when neither side has a price",
    }),
    pools: t.exposeStringList("pools", {
      description: "the pools slotline decodes that the trade went through, in execution order (not other venues)",
    }),
    transaction: t.field({
      type: Transaction,
      nullable: true,
      extensions: reads<TradeRecord>("signature"),
      resolve: (x) => x.signature,
    }),
  }),
});
