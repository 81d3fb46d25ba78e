/** The data model: what the indexer writes and the API reads. Imports nothing from indexer/ or api/. */
export * from "./chain.js";
export * from "./tokens.js";
export * from "./dex.js";
export * from "./events.js";
export * from "./ops.js";
