import { bigint, index, integer, numeric, pgTable, primaryKey, text, unique } from "drizzle-orm/pg-core";
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

/**
 * Wallet PnL by average cost, kept by the pricing stage (indexer/pricing) as it prices slots in chain order: one row
 * per (trader, mint, trade) for each mint a priced trade bought or sold, with the trade's part for that mint and the
 * trader's average-cost basis of the mint after it. A window's figures are sums over its rows; the basis is the
 * newest row's.
 * @dev a row is a function of the trader's trades of the mint up to it in (slot, tx_index) order: a rewind of the
 * pricing stage to slot s deletes the rows at or above s and the stage writes them again from the basis below s.
 * USD figures are exact at 36 fraction digits (those of a unit price); `cost` too.
 */
export const walletPnl = pgTable(
  "wallet_pnl",
  {
    trader: text("trader").notNull(),
    mint: text("mint").notNull(),
    slot: bigint("slot", { mode: "number" }).notNull(),
    txIndex: integer("tx_index").notNull(),
    blockTime: blockTime(),
    /** what the trade bought of the mint (0 when it sold it) */
    boughtAmount: amount("bought_amount").notNull(),
    soldAmount: amount("sold_amount").notNull(),
    /** the trade's USD value when it bought the mint and has one, else 0 */
    boughtUsd: numeric("bought_usd").notNull(),
    soldUsd: numeric("sold_usd").notNull(),
    /** a sale's proceeds less the average cost of the part the basis covers (0 for a buy or an unpriced trade) */
    realizedUsd: numeric("realized_usd").notNull(),
    /** the basis after the trade: the quantity bought at a known USD value and not sold since, and its cost */
    qty: amount("qty").notNull(),
    cost: numeric("cost").notNull(),
  },
  (t) => [
    primaryKey({ name: "wallet_pnl_pk", columns: [t.trader, t.mint, t.slot, t.txIndex] }),
    index("wallet_pnl_mint_idx").on(t.mint, t.blockTime),
    index("wallet_pnl_slot_idx").on(t.slot),
  ],
);

/** A `wallet_pnl` row to insert. */
export type NewWalletPnl = typeof walletPnl.$inferInsert;
