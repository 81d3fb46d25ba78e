import { bigint, index, integer, numeric, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { enumCheck } from "./columns.js";

/** What a market rollup is about: a token (from `trades`), a pool or a DEX (from `swaps`). */
export const MARKET_KINDS = ["token", "pool", "dex"] as const;
/** Rollup widths: UTC hours and UTC days of block time. */
export const MARKET_INTERVALS = ["hour", "day"] as const;

/**
 * Hourly and daily market rollups per token, pool and DEX, kept by the pricing stage (indexer/pricing) as it prices
 * slots in chain order, so a row is the aggregate of the priced rows (slot at or below the pricing cursor) whose
 * slot's block time falls in the bucket. Token rows aggregate `trades` (a trade that bought the token is a buy, one
 * that sold it a sell); pool and DEX rows aggregate `swaps` (a pool's buy took its mint A out of it; a DEX has none).
 * @dev `first_slot`/`last_slot` bound the slots a row aggregates: a rewind of the pricing stage to slot s recomputes
 * the rows whose `last_slot` >= s from the rows below s, and the pricing stage adds each later run to them.
 */
export const marketStats = pgTable(
  "market_stats",
  {
    kind: text("kind", { enum: MARKET_KINDS }).notNull(),
    /** the mint, pool address or DEX preset name */
    entity: text("entity").notNull(),
    interval: text("interval", { enum: MARKET_INTERVALS }).notNull(),
    /** the bucket's start: date_bin of the block time on the epoch, in UTC */
    bucket: timestamp("bucket", { withTimezone: true, mode: "date" }).notNull(),
    /** the USD value of its priced trades or swaps (one without a price adds nothing) */
    volumeUsd: numeric("volume_usd").notNull(),
    trades: integer("trades").notNull(),
    buys: integer("buys").notNull(),
    sells: integer("sells").notNull(),
    /** distinct traders: the `market_traders` rows of the bucket */
    traders: integer("traders").notNull(),
    firstSlot: bigint("first_slot", { mode: "number" }).notNull(),
    lastSlot: bigint("last_slot", { mode: "number" }).notNull(),
  },
  (t) => [
    primaryKey({ name: "market_stats_pk", columns: [t.kind, t.entity, t.interval, t.bucket] }),
    enumCheck("market_stats_kind_check", t.kind, MARKET_KINDS),
    enumCheck("market_stats_interval_check", t.interval, MARKET_INTERVALS),
    index("market_stats_last_slot_idx").on(t.lastSlot),
    index("market_stats_bucket_idx").on(t.kind, t.interval, t.bucket),
  ],
);

/** A `market_stats` row to insert. */
export type NewMarketStat = typeof marketStats.$inferInsert;

/**
 * The traders of each `market_stats` bucket, one row per (bucket, trader), so unique traders stay exact over any set
 * of buckets (a window's distinct count is a count over these rows, never a sum of the buckets' counts).
 * @dev `first_slot` is the trader's first slot in the bucket: a rewind to s drops the rows with first_slot >= s.
 */
export const marketTraders = pgTable(
  "market_traders",
  {
    kind: text("kind", { enum: MARKET_KINDS }).notNull(),
    entity: text("entity").notNull(),
    interval: text("interval", { enum: MARKET_INTERVALS }).notNull(),
    bucket: timestamp("bucket", { withTimezone: true, mode: "date" }).notNull(),
    trader: text("trader").notNull(),
    firstSlot: bigint("first_slot", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ name: "market_traders_pk", columns: [t.kind, t.entity, t.interval, t.bucket, t.trader] })],
);

/** A `market_traders` row to insert. */
export type NewMarketTrader = typeof marketTraders.$inferInsert;

/** Rankings the pricing stage writes per generation, by kind. */
export const TOKEN_RANKINGS = [
  "VOLUME_24H_DESC",
  "PRICE_CHANGE_24H_DESC",
  "MARKET_CAP_DESC",
  "LIQUIDITY_DESC",
  "TRADES_24H_DESC",
  "HOLDERS_DESC",
  "NEWEST",
] as const;
export const POOL_RANKINGS = ["VOLUME_24H_DESC", "TVL_DESC", "TRADES_24H_DESC", "NEWEST"] as const;

/**
 * Token and pool rankings, written whole by the pricing stage each time its cursor moves: one generation (the cursor
 * slot it was computed at) holds every ranked entity's rank under each ordering, and is never changed afterwards, so
 * a cursor naming (generation, rank) pages through one fixed list: no row skipped or repeated while new generations
 * are written. The stage keeps the newest few generations; a rewind drops those at or above its slot.
 * @dev ties break by entity; an entity without a value (no price, no trade) ranks after those with one. The filter
 * columns (liquidity, DEXes, creation time) are the entity's at the generation, so a filtered page stays fixed too.
 */
export const marketRankings = pgTable(
  "market_rankings",
  {
    kind: text("kind", { enum: ["token", "pool"] }).notNull(),
    ordering: text("ordering").notNull(),
    /** the pricing cursor's slot when the ranking was computed */
    generation: bigint("generation", { mode: "number" }).notNull(),
    /** 1-based position in the ordering */
    rank: integer("rank").notNull(),
    /** the mint or pool address */
    entity: text("entity").notNull(),
    /** the figure ranked on (USD, percent, count or slot), null when unknown */
    value: numeric("value"),
    /** tokens: the TVL of the pools trading it; pools: its TVL */
    liquidityUsd: numeric("liquidity_usd"),
    /** the DEXes of its pools (a pool: its own) */
    dexes: text("dexes").array().notNull(),
    /** the block time of the slot it was first seen at */
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    primaryKey({ name: "market_rankings_pk", columns: [t.kind, t.ordering, t.generation, t.rank] }),
    enumCheck("market_rankings_kind_check", t.kind, ["token", "pool"]),
    index("market_rankings_generation_idx").on(t.generation),
  ],
);
