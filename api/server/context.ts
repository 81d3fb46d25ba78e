/**
 * The API's application context (created once) and the GraphQL context (created per request, so loaders and
 * their caches never outlive a request).
 */
import { randomUUID } from "node:crypto";
import { clearAllDataLoaders } from "@pothos/plugin-dataloader";
import type { Redis } from "ioredis";
import type pg from "pg";
import type { Config } from "../../core/config.js";
import type { Logger } from "../../core/logger.js";
import { type Reader, createReader } from "../sql/reader.js";
import type { EventHub } from "./event-hub.js";
import type { ApiMetrics } from "./metrics.js";
import type { PageLimits } from "../sql/page.js";
import type { SlowGate } from "../sql/slow-gate.js";
import { sql } from "../sql/sql.js";

/** What createApi needs: config, logger, the read-only pool, and optionally Redis (status keys, events). */
export type ApiContext = {
  config: Pick<Config, "QUEUE_PREFIX"> & Partial<Pick<Config, "API_KEYS" | "API_CORS_ORIGINS" | "API_INTROSPECTION">>;
  logger: Logger;
  pool: pg.Pool;
  /** a normal client: reads `${QUEUE_PREFIX}:status` */
  redis?: Redis;
  /** subscription events (created by createApi from `redis` when not given) */
  events?: EventHub;
};

/** The GraphQL context of one request. */
export type RequestContext = {
  app: ApiContext;
  reader: Reader;
  requestId: string;
  /** who is asking, for rate limits: `key:<api key>` or `ip:<address>` */
  client: string;
  /** the request's child logger (request_id bound), made on first call: most requests never log */
  log(): Logger;
  limits: PageLimits;
  metrics: ApiMetrics;
  signal: AbortSignal;
  /** What caching needs to know: the newest transaction slot read, and whether a looked-up row was missing. */
  cache: { maxSlot: number | null; missing: boolean };
  /** The newest indexed block time: the clock that volume windows and candles default to (memoized). */
  chainNow(): Promise<Date | null>;
  /**
   * Forgets everything read so far: the DataLoaders' caches, the reader's statements, the chain clock. Called before
   * each item a subscription pushes, whose context lives as long as the subscription: without it, every later item
   * would be answered from what the first one read.
   */
  reset(): void;
};

/** Builds the context of one request: a reader bound to its abort signal, a request id, a child logger. */
export function createRequestContext(
  ctx: ApiContext,
  req: { signal: AbortSignal; requestId?: string | null; client?: string },
  deps: { limits: PageLimits; metrics: ApiMetrics; gate?: SlowGate },
): RequestContext {
  const requestId = req.requestId && /^[\w.-]{1,64}$/.test(req.requestId) ? req.requestId : randomUUID();
  const reader = createReader(ctx.pool, {
    signal: req.signal,
    // Methods, not arrow properties: tsx (esbuild keepNames) gives each named arrow a defineProperty per request.
    onStatement(ms) {
      deps.metrics.sqlSeconds.observe(ms / 1000);
    },
    gate: deps.gate,
  });
  let now: Promise<Date | null> | undefined;
  let logger: Logger | undefined;
  return {
    app: ctx,
    reader,
    requestId,
    client: req.client ?? "ip:unknown",
    // A child logger costs a bindings serialization: made only when a request logs. A method, not a getter: yoga
    // copies this object into its context with Object.assign, which would call a getter for every request.
    log() {
      return (logger ??= ctx.logger.child({ request_id: requestId }));
    },
    limits: deps.limits,
    metrics: deps.metrics,
    signal: req.signal,
    cache: { maxSlot: null, missing: false },
    reset(this: RequestContext) {
      clearAllDataLoaders(this);
      reader.forget();
      now = undefined;
    },
    chainNow() {
      return (now ??= reader
        .rows<{ t: Date | null }>(
          sql`select block_time as t from slots where status = 'indexed' order by slot desc limit 1`,
        )
        .then((r) => r[0]?.t ?? null));
    },
  };
}
