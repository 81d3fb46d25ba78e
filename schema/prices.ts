import { bigint, index, numeric, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { amount, blockTime } from "./columns.js";

/**
 * USD prices, kept by the pricing stage (indexer/pricing) in chain order behind the live resume point: one row per
 * mint and slot whose pools moved, set by the mint's deepest pool against SOL or a stablecoin above the liquidity
 * floor, at the volume-weighted price of that pool's swaps in the last slot it swapped in. A mint's price at slot s
 * is its row latest at or below s.
 * @dev `unit_price_usd` is USD per smallest unit (no decimals applied), so valuing a raw amount needs no decimals.
 */
export const tokenPrices = pgTable(
  "token_prices",
  {
    mint: text("mint").notNull(),
    slot: bigint("slot", { mode: "number" }).notNull(),
    unitPriceUsd: numeric("unit_price_usd").notNull(),
    /** the pool that set the price (null for a stablecoin, worth 1 USD by configuration) */
    pool: text("pool"),
    /** that pool's liquidity: twice the USD value of its quote side's reserve */
    liquidityUsd: numeric("liquidity_usd"),
    blockTime: blockTime(),
  },
  (t) => [
    primaryKey({ name: "token_prices_pk", columns: [t.mint, t.slot] }),
    index("token_prices_slot_idx").on(t.slot),
    // a price as of a block time (a window's opening price)
    index("token_prices_mint_time_idx").on(t.mint, t.blockTime),
  ],
);

/** A `token_prices` row to insert. */
export type NewTokenPrice = typeof tokenPrices.$inferInsert;

/**
 * A pool's state after each slot that moved it (its reserves or a swap), as the pricing stage saw it in chain order:
 * reserves, the swap volumes of the last slot it swapped in (their ratio is the pool's price: a concentrated pool's
 * vault ratio is not) and the USD value of its reserves; a pool's TVL is its latest row.
 * @dev the pricing stage's own copy of the history, so it never depends on slot_changes rows below finality.
 */
export const poolTvl = pgTable(
  "pool_tvl",
  {
    pool: text("pool").notNull(),
    slot: bigint("slot", { mode: "number" }).notNull(),
    reserveA: amount("reserve_a"),
    reserveB: amount("reserve_b"),
    /** what the pool's swaps moved of each mint in the last slot, at or before this one, where both were > 0 */
    volumeA: amount("volume_a"),
    volumeB: amount("volume_b"),
    /** both sides at their prices; twice one side when only one is priced; null when neither is */
    tvlUsd: numeric("tvl_usd"),
    blockTime: blockTime(),
  },
  (t) => [primaryKey({ name: "pool_tvl_pk", columns: [t.pool, t.slot] }), index("pool_tvl_slot_idx").on(t.slot)],
);

/** A `pool_tvl` row to insert. */
export type NewPoolTvl = typeof poolTvl.$inferInsert;
