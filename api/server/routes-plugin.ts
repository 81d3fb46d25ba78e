/**
 * Non-GraphQL routes and the request gate: /health (process up), /ready (503 until Postgres answers and,
 * optionally, the indexer is close enough to the tip; its answer is reused for READY_CACHE_MS, so /ready costs no SQL
 * however often it is called), /metrics (Prometheus, only with `metricsKey`, presented as a bearer token or x-api-key;
 * otherwise main.ts serves it on a port of its own or not at all); API keys on /graphql; and each request's id and
 * client identity.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Plugin } from "graphql-yoga";
import type { ApiContext, RequestContext } from "../context.js";
import { readStatusHash } from "../graph/index.js";
import type { ApiMetrics } from "../metrics.js";
import { type RateLimiter, clientIdentity, keyMatches, presentedKey } from "./rate-limit.js";

/** Per-request facts decided before GraphQL runs. */
export type RequestFacts = { requestId: string; client: string };

/** Options of the routes plugin. */
export type RoutesOptions = {
  metrics: ApiMetrics;
  facts: WeakMap<Request, RequestFacts>;
  requestIds: WeakMap<Request, string>;
  /** proxies appending to X-Forwarded-For (rate-limit.ts clientIdentity) */
  trustProxy: boolean | number;
  /** /ready also requires chainTip - latest stored slot <= this (when the indexer publishes its tip) */
  readyMaxLagSlots: number | null;
  /** the per-client budget: a client that cannot afford even the cheapest request is refused before parsing */
  limiter: RateLimiter | null;
  /** /metrics is served on this port to requests presenting this key (API_METRICS_KEY); null: not served here */
  metricsKey: string | null;
};

/** How long one /ready answer (and its SQL) is reused: probes every second or a flood of them cost one statement. */
export const READY_CACHE_MS = 1_000;

const json = (body: unknown, status: number, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

async function readiness(ctx: ApiContext, maxLag: number | null): Promise<{ ready: boolean; reason?: string }> {
  let latest: number | null = null;
  try {
    const r = await Promise.race([
      ctx.pool.query<{ slot: number | null }>("select (select max(slot) from slots where status = 'indexed') as slot"),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("timeout")), 2_000).unref()),
    ]);
    latest = r.rows[0]?.slot ?? null;
  } catch {
    return { ready: false, reason: "database not reachable" };
  }
  if (maxLag == null) return { ready: true };
  const tip = Number((await readStatusHash({ app: ctx }))?.chainTip ?? Number.NaN);
  if (!Number.isFinite(tip)) return { ready: false, reason: "chain tip unknown" };
  if (latest == null || tip - latest > maxLag)
    return {
      ready: false,
      reason: `indexer ${latest == null ? "has no slot" : `${tip - latest} slots`} behind the tip`,
    };
  return { ready: true };
}

/** The routes plugin. */
export function useRoutes(ctx: ApiContext, opts: RoutesOptions): Plugin<RequestContext> {
  const keys = ctx.config.API_KEYS ?? [];
  const metricsKeys = opts.metricsKey ? [opts.metricsKey] : null;
  let ready: { at: number; answer: Promise<{ ready: boolean; reason?: string }> } | undefined;
  /** The readiness answer, computed at most once per READY_CACHE_MS (concurrent calls share it). */
  const readyNow = () => {
    const now = performance.now();
    if (!ready || now - ready.at >= READY_CACHE_MS) ready = { at: now, answer: readiness(ctx, opts.readyMaxLagSlots) };
    return ready.answer;
  };
  return {
    // Synchronous for GraphQL requests: an async hook costs every request a promise and a tick in yoga's chain.
    onRequest({ request, url, serverContext, endResponse }) {
      if (request.method === "GET") {
        const path = url.pathname;
        if (path === "/health") return endResponse(json({ status: "ok" }, 200));
        if (path === "/ready")
          return readyNow().then((r) =>
            endResponse(
              json(r.ready ? { status: "ready" } : { status: "not ready", reason: r.reason }, r.ready ? 200 : 503),
            ),
          );
        // Without the key the route does not exist here (404 below, like any unknown path): nothing tells a scanner
        // that metrics are served.
        if (path === "/metrics" && metricsKeys && keyMatches(presentedKey(request.headers), metricsKeys))
          return opts.metrics.registry
            .metrics()
            .then((text) =>
              endResponse(new Response(text, { headers: { "content-type": opts.metrics.registry.contentType } })),
            );
      }
      const incoming = /^[\w.-]{1,64}$/.exec(request.headers.get("x-request-id") ?? "")?.[0];
      const requestId = incoming ?? randomUUID();
      opts.requestIds.set(request, requestId);
      const key = presentedKey(request.headers);
      // Preflight requests carry no credentials; CORS answers them.
      if (keys.length && request.method !== "OPTIONS" && !keyMatches(key, keys)) {
        return endResponse(
          json(
            {
              errors: [
                { message: "A valid API key is required (x-api-key header).", extensions: { code: "UNAUTHENTICATED" } },
              ],
            },
            401,
            {
              "www-authenticate": "Bearer",
              "x-request-id": requestId,
            },
          ),
        );
      }
      const req = (serverContext as { req?: IncomingMessage } | undefined)?.req;
      const client = clientIdentity(request.headers, req?.socket?.remoteAddress, {
        trustProxy: opts.trustProxy,
        key: keys.length ? key : null,
      });
      opts.facts.set(request, { requestId, client });
      // Out of budget whatever it asks: refused here, before the body is read, parsed and costed (the guards' answer,
      // the same 429, costs a parse and a GraphQLError), so a client hammering past its budget costs next to nothing.
      const wait = request.method === "OPTIONS" ? null : (opts.limiter?.exhausted(client) ?? null);
      if (wait !== null) {
        opts.metrics.errors.inc({ code: "RATE_LIMITED" });
        return endResponse(
          json(
            { errors: [{ message: `Rate limit reached; retry in ${wait} s.`, extensions: { code: "RATE_LIMITED" } }] },
            429,
            {
              "retry-after": String(wait),
              "x-request-id": requestId,
            },
          ),
        );
      }
    },
  };
}
