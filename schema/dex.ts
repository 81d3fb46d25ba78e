import { bigint, index, integer, numeric, pgTable, primaryKey, text, timestamp, unique } from "drizzle-orm/pg-core";
import { amount, blockTime, enumCheck } from "./columns.js";

/** Liquidity event kinds. */
export const LIQUIDITY_KINDS = ["add", "remove"] as const;

/** DEX pools: mints and the vaults that hold the reserves; reserves follow the latest swap or liquidity event. */
export const pools = pgTable(
  "pools",
  {
    address: text("address").primaryKey(),
    dex: text("dex").notNull(),
    programId: text("program_id").notNull(),
    mintA: text("mint_a").notNull(),
    mintB: text("mint_b").notNull(),
    vaultA: text("vault_a").notNull(),
    vaultB: text("vault_b").notNull(),
    createdSlot: bigint("created_slot", { mode: "number" }),
    createdSignature: text("created_signature"),
    reserveA: amount("reserve_a"),
    reserveB: amount("reserve_b"),
    /** @dev slot of the event that set reserve_a/reserve_b; reserves only move forward in slot order */
    reservesSlot: bigint("reserves_slot", { mode: "number" }),
    lastSwapSlot: bigint("last_swap_slot", { mode: "number" }),
    firstSeenSlot: bigint("first_seen_slot", { mode: "number" }).notNull(),
  },
  (t) => [
    index("pools_dex_idx").on(t.dex),
    index("pools_mint_a_idx").on(t.mintA),
    index("pools_mint_b_idx").on(t.mintB),
    index("pools_last_swap_idx").on(t.lastSwapSlot),
  ],
);

/** A `pools` row to insert. */
export type NewPool = typeof pools.$inferInsert;

/** Swaps, from the pool's side: `amount_in` is what its vault received, `amount_out` what its vault paid. */
export const swaps = pgTable(
  "swaps",
  {
    signature: text("signature").notNull(),
    instructionPath: text("instruction_path").notNull(),
    pool: text("pool").notNull(),
    dex: text("dex").notNull(),
    trader: text("trader").notNull(),
    mintIn: text("mint_in").notNull(),
    mintOut: text("mint_out").notNull(),
    amountIn: amount("amount_in").notNull(),
    amountOut: amount("amount_out").notNull(),
    slot: bigint("slot", { mode: "number" }).notNull(),
    txIndex: integer("tx_index").notNull(),
    blockTime: blockTime(),
    /** @dev set by the pricing stage (indexer/pricing), never by the store: null until the slot is priced */
    valueUsd: numeric("value_usd"),
  },
  (t) => [
    unique("swaps_natural_key").on(t.signature, t.instructionPath, t.slot),
    index("swaps_slot_idx").on(t.slot, t.txIndex, t.instructionPath),
    index("swaps_pool_idx").on(t.pool, t.slot, t.txIndex),
    index("swaps_pool_time_idx").on(t.pool, t.blockTime),
    index("swaps_trader_idx").on(t.trader, t.slot, t.txIndex),
    index("swaps_mint_in_idx").on(t.mintIn, t.slot),
    index("swaps_mint_out_idx").on(t.mintOut, t.slot),
  ],
);

/** A `swaps` row to insert. */
export type NewSwap = typeof swaps.$inferInsert;

/**
 * One-minute OHLCV of a pool's swaps, kept by the store (write-sql.ts) and read by the API's candles. Prices are
 * the raw ratio (pool B units per A unit, no decimals scale), as the API computes it per swap before scaling.
 * @dev a row is always recomputed whole from `swaps` (never incremented), so it equals the aggregate of the minute's
 * swaps with a block time; the open and close swap keys let the API pick open/close when it merges minutes.
 */
export const poolCandles = pgTable(
  "pool_candles",
  {
    pool: text("pool").notNull(),
    /** the UTC minute: date_bin('1 minute', block_time, 'epoch') */
    bucket: timestamp("bucket", { withTimezone: true, mode: "date" }).notNull(),
    /** null when no swap of the minute has a price (a zero amount on the divisor side) */
    open: numeric("open"),
    high: numeric("high"),
    low: numeric("low"),
    close: numeric("close"),
    /** the open swap's key: slot, position in the block, instruction path as numbers */
    openSlot: bigint("open_slot", { mode: "number" }),
    openTxIndex: integer("open_tx_index"),
    openPath: integer("open_path").array(),
    closeSlot: bigint("close_slot", { mode: "number" }),
    closeTxIndex: integer("close_tx_index"),
    closePath: integer("close_path").array(),
    volumeA: numeric("volume_a").notNull(),
    volumeB: numeric("volume_b").notNull(),
    swaps: integer("swaps").notNull(),
  },
  (t) => [primaryKey({ columns: [t.pool, t.bucket] })],
);

/** A `pool_candles` row to insert. */
export type NewPoolCandle = typeof poolCandles.$inferInsert;

/** Liquidity added to or removed from a pool; amounts are the pool vaults' deltas. */
export const liquidityEvents = pgTable(
  "liquidity_events",
  {
    signature: text("signature").notNull(),
    instructionPath: text("instruction_path").notNull(),
    pool: text("pool").notNull(),
    kind: text("kind", { enum: LIQUIDITY_KINDS }).notNull(),
    owner: text("owner").notNull(),
    amountA: amount("amount_a").notNull(),
    amountB: amount("amount_b").notNull(),
    slot: bigint("slot", { mode: "number" }).notNull(),
    txIndex: integer("tx_index").notNull(),
    blockTime: blockTime(),
  },
  (t) => [
    unique("liquidity_events_natural_key").on(t.signature, t.instructionPath, t.slot),
    enumCheck("liquidity_events_kind_check", t.kind, LIQUIDITY_KINDS),
    index("liquidity_events_pool_idx").on(t.pool, t.slot, t.txIndex),
    index("liquidity_events_owner_idx").on(t.owner, t.slot),
    index("liquidity_events_slot_idx").on(t.slot),
  ],
);

/** A `liquidity_events` row to insert. */
export type NewLiquidityEvent = typeof liquidityEvents.$inferInsert;
