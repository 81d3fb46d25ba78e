/** Prometheus metrics of the API: one registry per createApi, served on /metrics. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The API's metrics. */
export type ApiMetrics = ReturnType<typeof createApiMetrics>;

/** Creates the registry (with process metrics when `defaults`) and the API's own series. */
export function createApiMetrics(opts: { defaults?: boolean } = {}) {
  const registry = new Registry();
  if (opts.defaults) collectDefaultMetrics({ register: registry, prefix: "slotline_api_" });
  const r = [registry];
  /** What the slow-lane gauge reads at scrape time; createApi points it at its lane. */
  const slowLane = { stats: () => ({ running: 0, waiting: 0 }) };
  return {
    registry,
    slowLane,
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
  };
}
