/**
 * Stage 1, the source: JSON-RPC, WebSocket and Geyser gRPC I/O and nothing else. It fetches blocks and transactions in the raw RPC
 * shape (core/solana-types), retries with backoff, respects the request budget, and tells produced slots from
 * skipped ones. It decodes nothing.
 */
export {
  backoffMs,
  createRpcClient,
  FATAL_CODES,
  jsonText,
  type RpcAnswer,
  type RpcCall,
  type RpcClient,
  RpcFatalError,
  type RpcFailure,
  type RpcOptions,
} from "./rpc.js";
export {
  blockFromResult,
  blocksWithAnswers,
  type BlockHead,
  checkBlock,
  checkTransaction,
  type FetchedBlocks,
  fetchBlockHeads,
  fetchBlocks,
  fetchTransactions,
  fetchTxPositions,
  GET_BLOCKS_MAX_RANGE,
  NOT_YET_CODES,
  producedSlots,
  releaseBlocks,
  SKIPPED_CODES,
} from "./blocks.js";
export { createRpcPool, endpointName, type EndpointStatus, type PoolOptions, type RpcPool } from "./pool.js";
export { createSlotFeed, type SlotFeed } from "./slot-feed.js";
export { createGeyserFeed, type FeedBlock, type GeyserFeed } from "./grpc.js";
export { blockAnswerText } from "./geyser-block.js";
