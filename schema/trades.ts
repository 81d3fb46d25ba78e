import { bigint, index, integer, numeric, pgTable, text, unique } from "drizzle-orm/pg-core";
import { amount, blockTime } from "./columns.js";

/**
 * One row per (transaction, trader) that sold one token and bought another through a tracked DEX or aggregator,
 * from the trader's own balance changes: an aggregator route through several pools (some on venues no decoder
 * reads) is one trade. Native and wrapped SOL are both So11111111111111111111111111111111111111112.
 * @dev `pools`: the pools the decoders saw the transaction swap through, in execution order (not every venue's).
 */
export const trades = pgTable(
  "trades",
  {
    signature: text("signature").notNull(),
    trader: text("trader").notNull(),
    soldMint: text("sold_mint").notNull(),
    soldAmount: amount("sold_amount").notNull(),
    boughtMint: text("bought_mint").notNull(),
    boughtAmount: amount("bought_amount").notNull(),
    pools: text("pools").array().notNull(),
    slot: bigint("slot", { mode: "number" }).notNull(),
    txIndex: integer("tx_index").notNull(),
    blockTime: blockTime(),
    /** @dev set by the pricing stage (indexer/pricing), never by the store: null until the slot is priced */
    valueUsd: numeric("value_usd"),
  },
  (t) => [
    unique("trades_natural_key").on(t.signature, t.trader, t.slot),
    index("trades_slot_idx").on(t.slot, t.txIndex),
    index("trades_trader_idx").on(t.trader, t.slot, t.txIndex),
    index("trades_sold_mint_idx").on(t.soldMint, t.slot, t.txIndex),
    index("trades_bought_mint_idx").on(t.boughtMint, t.slot, t.txIndex),
  ],
);

/** A `trades` row to insert. */
export type NewTrade = typeof trades.$inferInsert;
