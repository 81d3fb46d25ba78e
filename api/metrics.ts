/** Prometheus metrics of the API: one registry per createApi, served on /metrics. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { ReadPools, ReplicaState } from "./sql/index.js";

/** The API's metrics. */
export type ApiMetrics = ReturnType<typeof createApiMetrics>;

/** Creates the registry (with process metrics when `defaults`) and the API's own series. */
export function createApiMetrics(opts: { defaults?: boolean } = {}) {
  const registry = new Registry();
  if (opts.defaults) collectDefaultMetrics({ register: registry, prefix: "slotline_api_" });
  const r = [registry];
  /** What the slow-lane gauge reads at scrape time; createApi points it at its lane. */
  const slowLane = { stats: () => ({ running: 0, waiting: 0 }) };
  /** The read pools the replica series read at scrape time; createApi sets it when the API has replicas. */
  const reads: { source: Pick<ReadPools, "replicas" | "primaryReads"> | null } = { source: null };
  const states: ReplicaState[] = ["up", "down", "behind"];
  return {
    registry,
    slowLane,
    reads,
    replicaState: new Gauge({
      name: "slotline_api_replica_state",
      help: "each read replica's state: 1 for the state it is in (up: serving; down: unreachable; behind: lagging more than DATABASE_READ_MAX_LAG_MS)",
      labelNames: ["replica", "state"],
      registers: r,
      collect() {
        this.reset();
        for (const x of reads.source?.replicas() ?? [])
          for (const s of states) this.set({ replica: x.name, state: s }, x.state === s ? 1 : 0);
      },
    }),
    replicaLag: new Gauge({
      name: "slotline_api_replica_lag_seconds",
      help: "how long each read replica has been behind the newest batch the API knows of (0: caught up or down)",
      labelNames: ["replica"],
      registers: r,
      collect() {
        this.reset();
        for (const x of reads.source?.replicas() ?? []) this.set({ replica: x.name }, x.lagMs / 1000);
      },
    }),
    readCheckouts: new Gauge({
      name: "slotline_api_read_checkouts",
      help: "connections the reads took from each target since start (a counter): primary, or a replica's name",
      labelNames: ["target"],
      registers: r,
      collect() {
        if (!reads.source) return;
        this.set({ target: "primary" }, reads.source.primaryReads());
        for (const x of reads.source.replicas()) this.set({ target: x.name }, x.reads);
      },
    }),
    slowLaneGauge: new Gauge({
      name: "slotline_api_slow_lane",
      help: "slow-lane slots held (running or resting) and requests waiting for one",
      labelNames: ["state"],
      registers: r,
      collect() {
        const s = slowLane.stats();
        this.set({ state: "held" }, s.running);
        this.set({ state: "waiting" }, s.waiting);
      },
    }),
    requests: new Counter({
      name: "slotline_api_requests_total",
      help: "GraphQL operations executed, by operation name and type",
      labelNames: ["operation", "type"],
      registers: r,
    }),
    seconds: new Histogram({
      name: "slotline_api_request_seconds",
      help: "GraphQL operation latency, by operation name",
      labelNames: ["operation"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: r,
    }),
    errors: new Counter({
      name: "slotline_api_errors_total",
      help: "GraphQL errors returned, by code",
      labelNames: ["code"],
      registers: r,
    }),
    sqlSeconds: new Histogram({
      name: "slotline_api_sql_seconds",
      help: "time of each SQL statement the API runs",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: r,
    }),
    batchSize: new Histogram({
      name: "slotline_api_dataloader_batch_size",
      help: "keys per DataLoader batch, by loader",
      labelNames: ["loader"],
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers: r,
    }),
    responseCache: new Counter({
      name: "slotline_api_response_cache_total",
      help: "queries the response cache answered or missed, by outcome: memory, stale (previous generation while the new one runs), shared (another request's execution), redis, miss",
      labelNames: ["outcome"],
      registers: r,
    }),
    compiled: new Counter({
      name: "slotline_api_compiled_documents_total",
      help: "query documents compiled by graphql-jit (each on its second execution)",
      registers: r,
    }),
    subscriptions: new Counter({
      name: "slotline_api_subscription_events_total",
      help: "events delivered to subscribers, by subscription",
      labelNames: ["subscription"],
      registers: r,
    }),
    subscriptionExecutions: new Counter({
      name: "slotline_api_subscription_executions_total",
      help: "pushed items executed: once per item for all the subscribers of the same operation (document and variables)",
      registers: r,
    }),
    subscriptionSerializations: new Counter({
      name: "slotline_api_subscription_serializations_total",
      help: "pushed results serialized to JSON: once per item for all the SSE and WebSocket subscribers of the same operation",
      registers: r,
    }),
  };
}
