/**
 * Ingest: follows the chain and enqueues work. `live` (slot subscription + getBlocks, one leader at a time, fork and
 * finality handling) or `logs` (logsSubscribe on the tracked programs plus a sweep). Uses source, queue and store.
 */
export { type ChainGap, checkLinks, onFinalizedChain } from "./chain-check.js";
export { acquireLeadership, INGEST_LEADER_KEY, LEADERSHIP_LOST } from "./leader.js";
export {
  DEEP_REORG_WINDOW,
  CHAIN_FETCHES,
  DeepReorgError,
  type IngestStatus,
  endpointsOf,
  gapReason,
  ingestHealth,
  type LiveIngest,
  type LiveIngestOptions,
  startLiveIngest,
} from "./live.js";
export { signatureJobId, startLogsIngest } from "./logs.js";
export { PARTITIONS_AHEAD, startUpkeep, UPKEEP_EVERY_MS, upkeepOnce } from "./upkeep.js";
