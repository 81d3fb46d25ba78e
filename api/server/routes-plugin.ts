/**
 * Non-GraphQL routes and the request gate: /health (process up), /ready (503 until Postgres answers and,
 * optionally, the indexer is close enough to the tip), /metrics (Prometheus); API keys on /graphql; and each
 * request's id and client identity.
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
  trustProxy: boolean;
  /** /ready also requires chainTip - latest stored slot <= this (when the indexer publishes its tip) */
  readyMaxLagSlots: number | null;
  /** the per-client budget: a client that cannot afford even the cheapest request is refused before parsing */
  limiter: RateLimiter | null;
};

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
  return {
    // Synchronous for GraphQL requests: an async hook costs every request a promise and a tick in yoga's chain.
    onRequest({ request, url, serverContext, endResponse }) {
      if (request.method === "GET") {
        const path = url.pathname;
        if (path === "/health") return endResponse(json({ status: "ok" }, 200));
        if (path === "/ready")
          return readiness(ctx, opts.readyMaxLagSlots).then((r) =>
            endResponse(
              json(r.ready ? { status: "ready" } : { status: "not ready", reason: r.reason }, r.ready ? 200 : 503),
            ),
          );
        if (path === "/metrics")
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
