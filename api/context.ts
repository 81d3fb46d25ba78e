/**
 * The API's application context (created once) and the GraphQL context (created per request, so loaders and
 * their caches never outlive a request). Shared by server/ (which builds them) and graph/ (whose resolvers read them).
 */
import { randomUUID } from "node:crypto";
import { clearAllDataLoaders } from "@pothos/plugin-dataloader";
import type { Redis } from "ioredis";
import type pg from "pg";
import type { Config } from "../core/config.js";
import type { ChainEvent } from "../core/events.js";
import type { Logger } from "../core/logger.js";
import type { ApiMetrics } from "./metrics.js";
import { type PageLimits, type ReadPath, type ReadPools, type Reader, type StatementMemo, sql } from "./sql/index.js";

/** One process's fan-out of the indexer's events channel (server/event-hub.ts creates it). */
export type EventHub = {
  /** resolves once Redis confirmed the subscription */
  ready: Promise<void>;
  /**
   * A stream of the items `select` picks from each event from now on; ends when the consumer returns.
   * A slow consumer loses the oldest items beyond 1,000. Throws RATE_LIMITED when `client` (who asks, as
   * RequestContext.client) holds as many streams as allowed, OVERLOADED when the process does.
   */
  subscribe<T>(select: (e: ChainEvent) => readonly T[], client?: string): AsyncIterableIterator<T>;
  /** Streams open now, and the clients holding them. */
  subscriptions(): { open: number; clients: number };
  /**
   * Changes with every event: a digest of the latest message ("0" before any), the same in every process
   * that received it, so response-cache keys built on it are shared and go stale together.
   */
  generation(): string;
  /** When (performance.now() of this process) the current generation began: its event's arrival; 0 before any. */
  generationSince(): number;
  /** The statements read for the latest event, shared by every subscriber it reaches (a new memo per event). */
  eventReads(): StatementMemo;
  close(): Promise<void>;
};

/** What createApi needs: config, logger, the read-only pool, and optionally Redis (status keys, events). */
export type ApiContext = {
  config: Pick<Config, "QUEUE_PREFIX"> &
    Partial<Pick<Config, "API_KEYS" | "API_CORS_ORIGINS" | "API_INTROSPECTION" | "API_MAX_BODY_BYTES" | "USD_STABLES">>;
  logger: Logger;
  pool: pg.Pool;
  /** streaming replicas over `pool` (DATABASE_READ_URLS): the reads' connections come from here when set */
  reads?: ReadPools;
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
   * would be answered from what the first one read. With `shared` (EventHub.eventReads), the reader from then on
   * shares that memo with the event's other subscribers, and has no abort signal: one subscriber leaving must not
   * cancel a read the others wait for (a pushed item's reads are key lookups).
   */
  reset(shared?: StatementMemo): void;
  /**
   * A reader of its own, without the request's abort signal: for a read several subscribers wait on (one per event for
   * all of them), which one subscriber leaving must not cancel.
   */
  sharedReader(): Reader;
};

/**
 * Builds the context of one request: a reader bound to its abort signal, a request id, a child logger.
 * @dev nothing built here may outlive the request in the heap. Unpatched, Pothos keeps its per-request caches (the
 * DataLoaders, whose batch functions hold this context) in a module-level WeakMap keyed by the context, and V8's
 * young-generation collections keep such a WeakMap's values alive until a full collection: every request's rows were
 * promoted to the old generation. patches/@pothos+core+4.15.1.patch (applied by patch-package on install) keeps them
 * on the context itself; test/unit/api/context-cache.test.ts checks that the patch is applied.
 */
export function createRequestContext(
  ctx: ApiContext,
  req: { signal: AbortSignal; requestId?: string | null; client?: string },
  deps: { limits: PageLimits; metrics: ApiMetrics; readPath: ReadPath },
): RequestContext {
  const requestId = req.requestId && /^[\w.-]{1,64}$/.test(req.requestId) ? req.requestId : randomUUID();
  const onStatement = (ms: number) => deps.metrics.sqlSeconds.observe(ms / 1000);
  let reader = deps.readPath.reader({ signal: req.signal, onStatement });
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
    reset(this: RequestContext, shared?: StatementMemo) {
      clearAllDataLoaders(this);
      if (shared) this.reader = reader = deps.readPath.reader({ onStatement, memo: shared });
      else reader.forget();
      now = undefined;
    },
    sharedReader: () => deps.readPath.reader({ onStatement }),
    chainNow() {
      return (now ??= reader
        .rows<{ t: Date | null }>(
          sql`select block_time as t from slots where status = 'indexed' order by slot desc limit 1`,
        )
        .then((r) => r[0]?.t ?? null));
    },
  };
}
