/**
 * createApi(ctx): the graphql-yoga instance (schema, guards, routes, observability). It never listens: tests
 * call `api.fetch("http://test/graphql", ...)`, and main.ts hands it to a node http server.
 */
import { createYoga, type GraphiQLOptions, useExecutionCancellation, type YogaServerInstance } from "graphql-yoga";
import { MAX_REQUEST_BODY_BYTES, useBodyLimit } from "./body-limit-plugin.js";
import { type ResponseCacheOptions, useCaching } from "./cache-plugin.js";
import { type ApiContext, type RequestContext, createRequestContext } from "../context.js";
import { useGuards } from "./guard-plugin.js";
import { DEFAULT_LIMITS, type GuardLimits } from "./guards.js";
import { useCompiledExecution } from "./jit-plugin.js";
import { type ApiMetrics, createApiMetrics } from "../metrics.js";
import { useObservability } from "./observe-plugin.js";
import { type PersistedOperations, usePersistedOperations } from "./persisted.js";
import { DEFAULT_RATE_LIMIT, type RateLimitOptions, createRateLimiter } from "./rate-limit.js";
import { type RequestFacts, useRoutes } from "./routes-plugin.js";
import { useSharedSubscriptions } from "./shared-subscriptions.js";
import { type SqlMode, createReadPath } from "../sql/index.js";
import { schema } from "../graph/index.js";
import { useWebApp } from "./web-plugin.js";

/** Tunables of the API (defaults in DEFAULT_LIMITS and DEFAULT_RATE_LIMIT). */
export type ApiOptions = Partial<GuardLimits> & {
  /** per-client budget in cost units; false turns rate limiting off */
  rateLimit?: Partial<RateLimitOptions> | false;
  /**
   * proxies in front that each append to X-Forwarded-For (true: 1): the client IP is that many entries from the right
   * (API_TRUST_PROXY, API_TRUSTED_PROXIES); false or 0: the socket's address
   */
  trustProxy?: boolean | number;
  /** GraphiQL on GET /graphql from a browser; default: on when introspection is on */
  graphiql?: boolean;
  /** /ready requires the indexer within this many slots of the tip; null/absent: only the database */
  readyMaxLagSlots?: number | null;
  /** the Redis response cache (needs ctx.redis and ctx.events); default off */
  responseCache?: ResponseCacheOptions | false;
  /** persisted-operations mode: only these documents run, named by hash (API_PERSISTED_OPERATIONS) */
  persistedOperations?: PersistedOperations | null;
  /** a registry to add to (default: a fresh one) */
  metrics?: ApiMetrics;
  /** GET /metrics answers requests presenting this key (API_METRICS_KEY); default: /metrics is not served */
  metricsKey?: string | null;
  /**
   * slow statements (by their shape's recent run time) running at once; 0: no slow lane (API_SLOW_QUERY_CONCURRENCY)
   */
  slowQueryConcurrency?: number;
  /** how long a slow statement may wait for the lane (default: the read pool's statement timeout, 5 s) */
  slowQueryMaxWaitMs?: number;
  /**
   * how the reads reach Postgres (API_SQL_MODE; default pipelined): the mode `ctx.pool` was created for (createReadPool)
   */
  sqlMode?: SqlMode;
};

/** Default of API_SLOW_QUERY_CONCURRENCY. */
export const DEFAULT_SLOW_QUERY_CONCURRENCY = 1;

/** What a non-HTTP transport (graphql-ws) tells the context: the client's identity and an abort signal. */
export type Transport = { client: string; signal: AbortSignal };

/** The API: a yoga instance (fetch-compatible request handler) plus its metrics. */
export type Api = YogaServerInstance<Record<string, unknown>, RequestContext> & {
  metrics: ApiMetrics;
  limits: GuardLimits;
  trustProxy: boolean | number;
  persistedOperations: PersistedOperations | null;
};

const defined = <T extends object>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

const graphiqlPages = new Map<string, Promise<string>>();

/**
 * GraphiQL from the installed @graphql-yoga/render-graphiql: its scripts, styles and editor workers are inlined in
 * the page, so it renders offline and runs no third party's code on the operator's endpoint (yoga's default page
 * loads them from a public CDN).
 * @dev the bundle is about 9 MB: it is imported on the first page view, never by a server that serves no GraphiQL,
 * and each page (one per options, which are fixed per server) is rendered once.
 */
export function renderLocalGraphiQL(options: GraphiQLOptions = {}): Promise<string> {
  const key = JSON.stringify(options);
  let page = graphiqlPages.get(key);
  if (!page) {
    page = import("@graphql-yoga/render-graphiql").then((m) => m.renderGraphiQL(options));
    // a failed import is tried again on the next view, not remembered
    page.catch(() => graphiqlPages.delete(key));
    graphiqlPages.set(key, page);
  }
  return page;
}

/** Builds the API over the application context; owns no connections (the caller closes pool and Redis). */
export function createApi(ctx: ApiContext, opts: ApiOptions = {}): Api {
  const limits: GuardLimits = { ...DEFAULT_LIMITS };
  for (const k of Object.keys(DEFAULT_LIMITS) as (keyof GuardLimits)[]) limits[k] = opts[k] ?? DEFAULT_LIMITS[k];
  const metrics = opts.metrics ?? createApiMetrics();
  const introspection = ctx.config.API_INTROSPECTION ?? true;
  const limiter =
    opts.rateLimit === false ? null : createRateLimiter({ ...DEFAULT_RATE_LIMIT, ...defined(opts.rateLimit ?? {}) });
  const facts = new WeakMap<Request, RequestFacts>();
  const requestIds = new WeakMap<Request, string>();
  const log = ctx.logger.child({ stage: "api" });
  const origins = ctx.config.API_CORS_ORIGINS ?? [];
  const readPath = createReadPath(ctx.reads ?? ctx.pool, {
    mode: opts.sqlMode,
    slowQueryConcurrency: opts.slowQueryConcurrency ?? DEFAULT_SLOW_QUERY_CONCURRENCY,
    slowQueryMaxWaitMs: opts.slowQueryMaxWaitMs,
  });
  metrics.slowLane.stats = readPath.slowLane;
  if (ctx.reads) metrics.reads.source = ctx.reads;

  const yoga = createYoga<Record<string, unknown>, RequestContext>({
    schema,
    graphqlEndpoint: "/graphql",
    batching: false,
    // useBodyLimit below: the same limit without a counting stream per request
    maxRequestBodySize: false,
    landingPage: false,
    graphiql: opts.graphiql ?? introspection,
    renderGraphiQL: renderLocalGraphiQL,
    maskedErrors: true,
    // An explicit policy, never yoga's implicit default: the configured origins, or "*" for a public read API.
    cors: {
      origin: origins.length ? origins : "*",
      methods: ["GET", "POST", "OPTIONS"],
      allowedHeaders: ["content-type", "x-api-key", "authorization", "x-request-id"],
      exposedHeaders: ["x-request-id", "retry-after"],
      credentials: false,
      maxAge: 600,
    },
    logging: {
      debug: (...args) => log.debug({ detail: args.map(String) }, "yoga"),
      info: (...args) => log.info({ detail: args.map(String) }, "yoga"),
      warn: (...args) => log.warn({ detail: args.map(String) }, "yoga"),
      error: (...args) =>
        log.error(
          { err: args.find((a) => a instanceof Error), detail: args.filter((a) => !(a instanceof Error)).map(String) },
          "yoga",
        ),
    },
    context: (initial) => {
      const request = (initial as { request?: Request }).request;
      const f = request ? facts.get(request) : undefined;
      // graphql-ws (main.ts) has no fetch Request: it passes the socket's facts as `transport`.
      const transport = (initial as { transport?: Transport }).transport;
      return createRequestContext(
        ctx,
        {
          signal: request?.signal ?? transport?.signal ?? new AbortController().signal,
          requestId: f?.requestId,
          client: f?.client ?? transport?.client,
        },
        { limits, metrics, readPath },
      );
    },
    plugins: [
      useBodyLimit(ctx.config.API_MAX_BODY_BYTES ?? MAX_REQUEST_BODY_BYTES),
      useWebApp(),
      useRoutes(ctx, {
        metrics,
        facts,
        requestIds,
        trustProxy: opts.trustProxy ?? false,
        readyMaxLagSlots: opts.readyMaxLagSlots ?? null,
        limiter,
        metricsKey: opts.metricsKey ?? null,
      }),
      // before the guards' onParams: what they measure is the stored document
      ...(opts.persistedOperations ? [usePersistedOperations(opts.persistedOperations)] : []),
      useExecutionCancellation(),
      useGuards({ limits, introspection, limiter, clientOf: (r) => (r ? facts.get(r)?.client : undefined) }),
      useObservability(metrics, requestIds),
      // after the guards: a cached answer still spends the client's budget
      useCaching(ctx, {
        responseCache: opts.responseCache || null,
        onCache: (outcome) => metrics.responseCache.inc({ outcome }),
      }),
      useCompiledExecution({ onCompile: () => metrics.compiled.inc() }),
      useSharedSubscriptions({
        onExecute: () => metrics.subscriptionExecutions.inc(),
        onSerialize: () => metrics.subscriptionSerializations.inc(),
      }),
    ],
  });
  return Object.assign(yoga, {
    metrics,
    limits,
    trustProxy: opts.trustProxy ?? false,
    persistedOperations: opts.persistedOperations ?? null,
  });
}
