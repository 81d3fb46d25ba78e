/**
 * The indexer -> API contract over Redis: the event published after each stored batch on
 * `${QUEUE_PREFIX}:events`, and the `${QUEUE_PREFIX}:status` hash ingest keeps up to date.
 * @dev one definition for both sides: the worker and ingest write it, api/server/event-hub.ts parses it.
 */

/** A swap in an event; amounts are decimal strings, blockTime unix seconds (or an ISO string). */
export type ChainEventSwap = {
  signature: string;
  instructionPath: string;
  pool: string;
  trader: string;
  mintIn: string;
  mintOut: string;
  amountIn: string;
  amountOut: string;
  slot: number;
  blockTime: number | string | null;
};

/** A transaction in an event. */
export type ChainEventTransaction = { signature: string; slot: number; programIds: string[]; success: boolean };

/**
 * What the indexer publishes after each stored batch. `lsn`: the primary's WAL position (`pg_current_wal_lsn()`,
 * `X/Y` hex) read after the batch committed; a replica that has replayed it holds the batch (absent from an indexer
 * that did not read it).
 */
export type ChainEvent = {
  type: "batch";
  slots: number[];
  swaps: ChainEventSwap[];
  transactions: ChainEventTransaction[];
  lsn?: string;
};

/** An LSN as Postgres prints it (`16/B374D848`) as a number that orders them; null for anything else. */
export function parseLsn(lsn: string): bigint | null {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn);
  return m ? (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`) : null;
}

/**
 * Fields of the `${QUEUE_PREFIX}:status` hash (HSET, decimal strings but `endpoints`); any may be missing.
 * chainTip: newest slot seen from the chain; finalizedSlot: newest finalized slot seen; queueDepth: jobs
 * waiting; updatedAt: unix milliseconds of the last update; endpoints: the ingest's RPC endpoints as JSON
 * (StatusEndpoint[]).
 */
export type IndexerStatusHash = {
  chainTip?: string;
  finalizedSlot?: string;
  queueDepth?: string;
  updatedAt?: string;
  endpoints?: string;
};

/**
 * One RPC endpoint of the ingest, as the status hash carries it: named by position and host (never its path or
 * query, where API keys live), its state and counters since the process started.
 */
export type StatusEndpoint = {
  endpoint: string;
  archive: boolean;
  state: string;
  requests: number;
  errors: number;
  latencyMs: number | null;
  p95Ms: number | null;
};

/** The pub/sub channel of a deployment. */
export const eventsChannel = (prefix: string) => `${prefix}:events`;
/** The hash where each worker reports itself (field: the worker's id, value: a WorkerHeartbeat as JSON). */
export const workersKey = (prefix: string) => `${prefix}:workers`;

/** What a worker reports every WORKER_HEARTBEAT_MS; a worker that stopped reporting is gone. */
export type WorkerHeartbeat = {
  id: string;
  state: "idle" | "busy" | "paused";
  /** jobs running now, completed and failed since the worker started */
  active: number;
  completed: number;
  failed: number;
  concurrency: number;
  /** unix milliseconds */
  startedAt: number;
  updatedAt: number;
};

/** How often a worker reports itself. */
export const WORKER_HEARTBEAT_MS = 5_000;

/** The status hash of a deployment. */
export const statusKey = (prefix: string) => `${prefix}:status`;
