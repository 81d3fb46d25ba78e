/**
 * The data model: what the indexer writes and the API reads. Imports nothing from indexer/ or api/.
 * @dev each table's insert shape is named next to it (`NewSwap = typeof swaps.$inferInsert`); the API's read
 * shapes have their own names (`SwapRecord`), since a row as written and a row as read differ.
 */
export * from "./chain.js";
export * from "./tokens.js";
export * from "./balances.js";
export * from "./dex.js";
export * from "./trades.js";
export * from "./prices.js";
export * from "./market.js";
export * from "./events.js";
export * from "./ops.js";
