/**
 * startApi: the only place the API listens. An http server for yoga (GraphQL over HTTP and SSE, GraphiQL,
 * /health, /ready, /metrics behind a key) and graphql-ws on the same port and path, and /metrics on a port of its own
 * when the operator asks, over the API's own read-only pool.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { ExecutionArgs } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { type WebSocket, WebSocketServer } from "ws";
import type { Config } from "../../core/config.js";
import type { Logger } from "../../core/logger.js";
import { createRedis } from "../../core/redis.js";
import { createReadPool, createReadPools } from "../sql/index.js";
import { apiError } from "../errors.js";
import { createEventHub } from "./event-hub.js";
import { createApiMetrics } from "../metrics.js";
import { tokensExceed } from "./guard-plugin.js";
import { loadPersistedOperations, resolvePersisted } from "./persisted.js";
import { clientIdentity, keyMatches, perMinute } from "./rate-limit.js";
import { sharedWsPushes } from "./shared-subscriptions.js";
import { type ApiOptions, type Transport, createApi } from "./yoga.js";

/** Options of startApi: the API's own, plus where to listen and the read pool's timeout. */
export type StartApiOptions = ApiOptions & {
  /** default config.API_PORT; 0 picks a free port */
  port?: number;
  /** default 0.0.0.0 */
  host?: string;
  /** statement_timeout of the read pool (default 5,000 ms) */
  statementTimeoutMs?: number;
};

/** A running API. */
export type RunningApi = { url: string; close(): Promise<void> };

/** Waits for a promise at most `ms`; false when it did not settle in time or failed. */
const within = (p: Promise<unknown>, ms: number) =>
  Promise.race([
    p.then(
      () => true,
      () => false,
    ),
    new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref()),
  ]);

/**
 * Closes `socket` (4408) once it has been idle `ms`: nothing received and no subscription open. A socket carrying a
 * subscription is not idle (the server pushes to it); graphql-ws' pings end sockets whose peer is gone.
 */
function closeWhenIdle(socket: WebSocket, ms: number): void {
  let last = performance.now();
  socket.on("message", () => {
    last = performance.now();
  });
  const timer = setInterval(
    () => {
      if (socket.readyState !== socket.OPEN) return clearInterval(timer);
      if (performance.now() - last < ms || subscriptionsOf(socket) > 0) return;
      clearInterval(timer);
      socket.close(4408, "Idle");
    },
    Math.max(250, ms / 4),
  ).unref();
  socket.once("close", () => clearInterval(timer));
}

/**
 * A client's protocol violation (a message over the cap, a bad frame) is counted in the log at debug, and not emitted
 * further: graphql-ws answers any socket error with a stack trace on stderr, which would let a client write to the
 * server's stderr at will. ws has already closed the socket with the violation's code (1009, 1002) when it emits.
 */
function quietProtocolErrors(socket: WebSocket, logger: Logger): void {
  const emit = socket.emit.bind(socket);
  socket.emit = ((event: string, ...args: unknown[]) => {
    const err = args[0] as { code?: unknown } | undefined;
    if (event === "error" && typeof err?.code === "string" && err.code.startsWith("WS_ERR_")) {
      logger.debug({ code: err.code }, "websocket protocol error");
      return true;
    }
    return emit(event, ...args);
  }) as WebSocket["emit"];
}

/** How long a client may take to send its request headers (node's default is a minute, checked every 30 s). */
export const HEADERS_TIMEOUT_MS = 10_000;

/** The answer to a connection past API_MAX_CONNECTIONS: written before its request is read, then the socket closes. */
const OVERLOADED_RESPONSE = (() => {
  const body = JSON.stringify({
    errors: [{ message: "Too many connections; retry later.", extensions: { code: "OVERLOADED" } }],
  });
  return `HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
})();

/**
 * Answers every connection past `max` open at once with 503 OVERLOADED and closes it, so a flood of sockets costs a
 * write each, not a parser, a request and a context (node's own `maxConnections` drops them without a word).
 */
function refuseBeyond(server: http.Server, max: number): void {
  let open = 0;
  server.on("connection", (socket) => {
    open++;
    socket.once("close", () => open--);
    if (open > max) socket.end(OVERLOADED_RESPONSE);
  });
}

/** Each socket's graphql-ws context, whose `subscriptions` holds the operations open on it (set in onConnect). */
const operationsOn = new WeakMap<object, { subscriptions: Record<string, unknown> }>();
const subscriptionsOf = (socket: object) => Object.keys(operationsOn.get(socket)?.subscriptions ?? {}).length;

/** Starts the API: read pool, Redis (status + events), http server and graphql-ws; `close()` undoes all of it. */
export async function startApi(
  ctx: { config: Config; logger: Logger },
  opts: StartApiOptions = {},
): Promise<RunningApi> {
  const { config } = ctx;
  const logger = ctx.logger.child({ stage: "api" });
  // Read before anything opens: a bad manifest stops start-up.
  const persistedOperations =
    opts.persistedOperations ??
    (config.API_PERSISTED_OPERATIONS ? loadPersistedOperations(config.API_PERSISTED_OPERATIONS) : null);
  const sqlMode = opts.sqlMode ?? config.API_SQL_MODE;
  const pool = createReadPool(config.DATABASE_READ_URL ?? config.DATABASE_URL, {
    max: config.DATABASE_POOL_SIZE,
    statementTimeoutMs: opts.statementTimeoutMs,
    mode: sqlMode,
    maxWaiting: config.API_DB_MAX_WAITING,
  });
  const replicaUrls = config.DATABASE_READ_URLS ?? [];
  const reads = replicaUrls.length
    ? createReadPools(
        pool,
        replicaUrls.map((url) => ({
          url,
          pool: createReadPool(url, {
            max: config.DATABASE_POOL_SIZE,
            statementTimeoutMs: opts.statementTimeoutMs,
            mode: sqlMode,
            maxWaiting: config.API_DB_MAX_WAITING,
            connectTimeoutMs: 2_000,
          }),
        })),
        {
          maxLagMs: config.DATABASE_READ_MAX_LAG_MS,
          onState: (replica, state, previous) =>
            (state === "up" ? logger.info.bind(logger) : logger.warn.bind(logger))(
              { replica, state, previous },
              state === "up" ? "read replica put back" : "read replica taken out",
            ),
        },
      )
    : undefined;
  const redis = createRedis(config, { maxRetriesPerRequest: 1, lazyConnect: false });
  redis.on("error", (err) => logger.warn({ err: { message: err.message } }, "redis error"));
  const subscriber = redis.duplicate();
  subscriber.on("error", () => {});
  const events = createEventHub(
    subscriber,
    config.QUEUE_PREFIX,
    logger,
    { total: config.API_MAX_SUBSCRIPTIONS, perClient: config.API_SUBSCRIPTIONS_PER_CLIENT },
    (e) => e.lsn && reads?.require(e.lsn),
  );
  if (reads) await within(reads.ready, 5_000);
  if (!(await within(events.ready, 5_000)))
    logger.warn({}, "event subscription not confirmed yet; subscriptions start when Redis answers");
  const api = createApi(
    { config, logger, pool, reads, redis, events },
    {
      responseCache: { ttlSeconds: 30, redisMaxBytes: config.API_CACHE_REDIS_MAX_MB * 1024 * 1024 },
      rateLimit: config.API_RATE_LIMIT === 0 ? false : perMinute(config.API_RATE_LIMIT),
      ...opts,
      persistedOperations,
      trustProxy: opts.trustProxy ?? (config.API_TRUST_PROXY ? config.API_TRUSTED_PROXIES : false),
      slowQueryConcurrency: opts.slowQueryConcurrency ?? config.API_SLOW_QUERY_CONCURRENCY,
      slowQueryMaxWaitMs: opts.slowQueryMaxWaitMs ?? opts.statementTimeoutMs,
      sqlMode,
      metrics: opts.metrics ?? createApiMetrics({ defaults: true }),
      metricsKey: opts.metricsKey ?? config.API_METRICS_KEY ?? null,
    },
  );

  const server = http.createServer(
    // A client that trickles its headers or body (slowloris) holds a socket at most this long; SSE and WebSocket
    // streams are responses and upgrades, which these do not cut.
    { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: 30_000, connectionsCheckingInterval: 1_000 },
    api,
  );
  refuseBeyond(server, config.API_MAX_CONNECTIONS);
  // ws reads messages up to 100 MiB by default: a document with its variables is far below the cap.
  const wss = new WebSocketServer({ server, path: "/graphql", maxPayload: config.API_WS_MAX_MESSAGE_BYTES });
  // Before graphql-ws' own listener: each socket's send splices in the shared payloads.
  const pushes = sharedWsPushes(() => api.metrics.subscriptionSerializations.inc());
  wss.on("connection", (socket) => {
    pushes.wrapSocket(socket as never);
    quietProtocolErrors(socket, logger);
    closeWhenIdle(socket, config.API_WS_IDLE_MS);
  });
  const keys = config.API_KEYS ?? [];
  const sockets = new WeakMap<object, Transport & { abort: AbortController }>();
  const ws = useServer(
    {
      onNext: pushes.onNext,
      jsonMessageReplacer: pushes.jsonMessageReplacer,
      execute: (args: ExecutionArgs) =>
        (args.rootValue as { execute(a: ExecutionArgs): unknown }).execute(args) as never,
      subscribe: (args: ExecutionArgs) =>
        (args.rootValue as { subscribe(a: ExecutionArgs): unknown }).subscribe(args) as never,
      onConnect: (c) => {
        const params = (c.connectionParams ?? {}) as Record<string, unknown>;
        const key =
          typeof params["x-api-key"] === "string"
            ? params["x-api-key"]
            : typeof params.apiKey === "string"
              ? params.apiKey
              : ((c.extra.request.headers["x-api-key"] as string | undefined) ?? null);
        if (keys.length && !keyMatches(key, keys)) return false;
        const headers = new Headers(
          Object.entries(c.extra.request.headers).flatMap(([k, v]) =>
            typeof v === "string" ? [[k, v] as [string, string]] : [],
          ),
        );
        const abort = new AbortController();
        c.extra.socket.once("close", () => abort.abort());
        operationsOn.set(c.extra.socket, c);
        sockets.set(c.extra.socket, {
          abort,
          signal: abort.signal,
          client: clientIdentity(headers, c.extra.request.socket.remoteAddress, {
            trustProxy: api.trustProxy,
            key: keys.length ? key : null,
          }),
        });
        return true;
      },
      onSubscribe: async (c, _id, payload) => {
        let { query } = payload;
        if (api.persistedOperations) {
          const r = resolvePersisted(api.persistedOperations, payload as never);
          if ("error" in r) return [r.error];
          query = r.query;
        }
        if (query.length > api.limits.maxDocumentChars)
          return [
            apiError("DOCUMENT_TOO_LARGE", `The document is longer than ${api.limits.maxDocumentChars} characters.`),
          ];
        if (tokensExceed(query, api.limits.maxTokens))
          return [apiError("TOKEN_LIMIT", `The document has more than ${api.limits.maxTokens} tokens.`)];
        // graphql-ws has already entered this one in c.subscriptions.
        if (Object.keys(c.subscriptions).length > config.API_SUBSCRIPTIONS_PER_SOCKET)
          return [
            apiError(
              "RATE_LIMITED",
              `A WebSocket may carry at most ${config.API_SUBSCRIPTIONS_PER_SOCKET} subscriptions at once.`,
            ),
          ];
        const transport = sockets.get(c.extra.socket);
        const { schema, execute, subscribe, contextFactory, parse, validate } = api.getEnveloped({
          ...c,
          req: c.extra.request,
          socket: c.extra.socket,
          params: payload,
          transport,
        });
        let document;
        try {
          document = parse(query);
        } catch (err) {
          return [apiError("BAD_USER_INPUT", (err as Error).message)];
        }
        const errors = validate(schema, document);
        if (errors.length) return errors;
        return {
          schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
      },
    },
    wss,
  );

  const port = opts.port ?? config.API_PORT;
  const host = opts.host ?? "0.0.0.0";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${address.port}`;
  logger.info({ url: `${url}/graphql`, port: address.port, sql_mode: sqlMode }, "api listening");
  // The operator's other choice for metrics: a port of their own, serving /metrics and nothing else, without a key.
  const metricsServer =
    config.API_METRICS_PORT > 0
      ? http.createServer((req, res) => {
          if (req.method !== "GET" || req.url?.split("?")[0] !== "/metrics") {
            res.writeHead(404).end();
            return;
          }
          api.metrics.registry.metrics().then(
            (text) => res.writeHead(200, { "content-type": api.metrics.registry.contentType }).end(text),
            () => res.writeHead(500).end(),
          );
        })
      : null;
  if (metricsServer) {
    await new Promise<void>((resolve, reject) => {
      metricsServer.once("error", reject);
      metricsServer.listen(config.API_METRICS_PORT, host, () => resolve());
    });
    logger.info({ port: config.API_METRICS_PORT }, "api metrics listening");
  }

  let closed: Promise<void> | undefined;
  return {
    url,
    close: () =>
      (closed ??= (async () => {
        await ws.dispose();
        wss.close();
        // SSE streams and keep-alive sockets would hold server.close() open.
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        if (metricsServer) await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
        await api.dispose();
        await events.close();
        await redis.quit().catch(() => redis.disconnect());
        await reads?.close();
        await pool.end();
      })()),
  };
}
