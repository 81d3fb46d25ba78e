/** Prometheus metrics: one registry per process, every counter slotline exposes on /metrics. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The metrics every stage may update. */
export type Metrics = ReturnType<typeof createMetrics>;

/** Creates a registry with the default process metrics and slotline's own. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "slotline_" });
  const r = [registry];
  return {
    registry,
    rpcRequests: new Counter({
      name: "slotline_rpc_requests_total",
      help: "JSON-RPC calls sent (a batch counts each call)",
      labelNames: ["method"],
      registers: r,
    }),
    rpcErrors: new Counter({
      name: "slotline_rpc_errors_total",
      help: "JSON-RPC failures by kind (http, timeout, network, malformed, rpc code)",
      labelNames: ["method", "kind"],
      registers: r,
    }),
    rpcRateLimited: new Counter({
      name: "slotline_rpc_rate_limited_total",
      help: "HTTP 429 answers from the RPC endpoint",
      registers: r,
    }),
    rpcRetries: new Counter({
      name: "slotline_rpc_retries_total",
      help: "RPC requests retried after a transient failure",
      labelNames: ["method"],
      registers: r,
    }),
    // The RPC endpoint pool (indexer/source/pool.ts): `endpoint` is the entry's number and host, never its URL.
    rpcEndpointState: new Gauge({
      name: "slotline_rpc_endpoint_state",
      help: "RPC endpoint state: 0 healthy, 1 resting after failures or 429s, 2 dead (refused for good)",
      labelNames: ["endpoint"],
      registers: r,
    }),
    rpcEndpointRequests: new Counter({
      name: "slotline_rpc_endpoint_requests_total",
      help: "JSON-RPC calls the pool sent to each endpoint (a batch counts each call)",
      labelNames: ["endpoint"],
      registers: r,
    }),
    rpcEndpointErrors: new Counter({
      name: "slotline_rpc_endpoint_errors_total",
      help: "requests of the pool that failed on an endpoint, by kind (http_429, timeout, network, fatal, ...)",
      labelNames: ["endpoint", "kind"],
      registers: r,
    }),
    rpcEndpointLatency: new Histogram({
      name: "slotline_rpc_endpoint_seconds",
      help: "time of one successful request (a call or a batch) on each endpoint",
      labelNames: ["endpoint"],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: r,
    }),
    rpcHedges: new Counter({
      name: "slotline_rpc_hedges_total",
      help: "slow getBlock batches sent again to a second endpoint, by which answer was used",
      labelNames: ["outcome"],
      registers: r,
    }),
    rpcSecondOpinions: new Counter({
      name: "slotline_rpc_second_opinions_total",
      help: "missing or skipped blocks asked of another endpoint, by outcome (found, agreed, disagreed, unavailable)",
      labelNames: ["outcome"],
      registers: r,
    }),
    slotsStored: new Counter({
      name: "slotline_slots_stored_total",
      help: "slots written (indexed or skipped)",
      labelNames: ["status"],
      registers: r,
    }),
    transactionsStored: new Counter({
      name: "slotline_transactions_stored_total",
      help: "transactions written to Postgres",
      registers: r,
    }),
    batchEvents: new Counter({
      name: "slotline_batch_events_total",
      help: "stored batches' events for the API: published, or not built because no process listened",
      labelNames: ["outcome"],
      registers: r,
    }),
    decodeWarnings: new Counter({
      name: "slotline_decode_warnings_total",
      help: "instructions passed over (unknown or undecodable) and truncated logs",
      labelNames: ["kind", "program", "discriminator"],
      registers: r,
    }),
    storeSeconds: new Histogram({
      name: "slotline_store_batch_seconds",
      help: "time to write one batch in one Postgres transaction",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: r,
    }),
    queueDepth: new Gauge({
      name: "slotline_queue_depth",
      help: "jobs waiting or delayed in the block queue",
      registers: r,
    }),
    chainTip: new Gauge({
      name: "slotline_chain_tip_slot",
      help: "newest slot seen from the chain at the ingest commitment",
      registers: r,
    }),
    resumeSlot: new Gauge({
      name: "slotline_resume_slot",
      help: "live resume point: every produced slot at or below it is stored",
      registers: r,
    }),
    partitionHeadroom: new Gauge({
      name: "slotline_partition_headroom_slots",
      help: "slots between the live resume point and the end of the last slot partition made ahead of it",
      registers: r,
    }),
    slotsBehind: new Gauge({
      name: "slotline_slots_behind_tip",
      help: "chain tip minus the live resume point",
      registers: r,
    }),
    wsReconnects: new Counter({
      name: "slotline_ws_reconnects_total",
      help: "WebSocket and gRPC stream reconnections (close, error or stall; gRPC reasons start with grpc_)",
      labelNames: ["reason"],
      registers: r,
    }),
    jobsStalled: new Counter({
      name: "slotline_jobs_stalled_total",
      help: "jobs whose lock expired while active (worker died or blocked), handed back to the queue",
      labelNames: ["queue"],
      registers: r,
    }),
    deadLetters: new Counter({
      name: "slotline_dead_letters_total",
      help: "jobs dead-lettered after a deterministic failure",
      labelNames: ["queue"],
      registers: r,
    }),
    rollbacks: new Counter({
      name: "slotline_rollbacks_total",
      help: "confirmed slots rolled back because they did not finalize",
      registers: r,
    }),
  };
}
