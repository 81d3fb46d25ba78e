/**
 * The API's reads, table by table: each list's spec (what a page selects from where, in which orderings), its filters,
 * and the batch lookups behind the loaders. Read shapes (`SwapRecord`, ...) and select lists come from the drizzle
 * tables in schema/, so a column's name is spelled there only.
 */
export {
  type BalanceChangeRecord,
  type HoldingRecord,
  type TokenAccountRecord,
  type TokenAccountWhere,
  type WalletRecord,
  HOLDINGS,
  TOKEN_ACCOUNTS,
  balanceChangesOf,
  holdingsOfMint,
  holdingsOfOwner,
  tokenAccountFilters,
  tokenAccountsByAddress,
  walletsByAddress,
} from "./balances.js";
export { type SlotRange, type TimeRange, groupBy } from "./common.js";
export {
  type LiquidityEventRecord,
  type ProgramEventRecord,
  type ProgramEventWhere,
  LIQUIDITY,
  PROGRAM_EVENTS,
  programEventFilters,
  programEventsBySignature,
} from "./events.js";
export {
  type CandleRecord,
  type PoolRecord,
  type PoolWhere,
  type VolumeRecord,
  POOLS,
  candles,
  poolFilters,
  poolsByAddress,
  poolsOfRows,
  volumes,
} from "./pools.js";
export { type DeadLetterRecord, newestDeadLetters } from "./dead-letters.js";
export { type PriceCandleRecord, priceCandles } from "./price-candles.js";
export { type PoolTvlRecord, type TokenPriceRecord, latestPoolTvl, latestTokenPrices } from "./prices.js";
export {
  type BackfillRecord,
  type SlotRecord,
  type StoredProgress,
  openBackfills,
  slotsByNumber,
  storedProgress,
} from "./status.js";
export { type SwapRecord, type SwapWhere, SWAPS, swapFilters, swapsBySignature } from "./swaps.js";
export { type TokenRecord, type TokenWhere, TOKENS, tokenFilters, tokensByMint } from "./tokens.js";
export {
  type TransactionRecord,
  type TransactionWhere,
  TRANSACTIONS,
  transactionFilters,
  transactionsBySignature,
} from "./transactions.js";
export {
  type TransferRecord,
  type TransferWhere,
  TRANSFERS,
  involves,
  transferFilters,
  transfersBySignature,
} from "./transfers.js";
export { type TradeRecord, type TradeWhere, TRADES, tradeFilters, tradesBySignature } from "./trades.js";
export {
  type MarketBucketRecord,
  type MarketInterval,
  type MarketKind,
  type MarketWindowRecord,
  POOL_RANKINGS,
  type RankingWhere,
  TOKEN_RANKINGS,
  type UsdCandleRecord,
  WINDOW_HOURS,
  marketBuckets,
  latestRanking,
  marketWindows,
  type TraderWindow,
  windowTraders,
  pricedNow,
  rankingPage,
  tokenLiquidity,
  usdCandles,
} from "./market.js";
export {
  type PnlSumRecord,
  type PnlTradeRecord,
  holdersOf,
  mintPnlSums,
  walletHoldings,
  walletPnlSums,
  walletTradeCount,
} from "./pnl.js";
