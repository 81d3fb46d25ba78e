/** RpcEndpoint: one RPC endpoint of the ingest as it last reported it in the status hash (read-only, from Redis). */
import { builder } from "./builder.js";
import type { StatusEndpoint } from "../../core/events.js";

/** The GraphQL type. */
export const RpcEndpoint = builder.objectRef<StatusEndpoint>("RpcEndpoint").implement({
  description:
    "An RPC endpoint of the ingest, named by position and host (never its path or query), with its counters since the ingest started.",
  fields: (t) => ({
    endpoint: t.exposeString("endpoint"),
    archive: t.exposeBoolean("archive"),
    state: t.exposeString("state", { description: "healthy, resting (backing off after errors) or dead" }),
    requests: t.exposeInt("requests"),
    errors: t.exposeInt("errors"),
    latencyMs: t.exposeInt("latencyMs", { nullable: true, description: "mean latency (moving average)" }),
    p95Ms: t.exposeInt("p95Ms", { nullable: true }),
  }),
});

/** The endpoints of a status hash's JSON; [] when absent or malformed (an older indexer, a hand-edited hash). */
export function parseEndpoints(json: string | undefined): StatusEndpoint[] {
  if (!json) return [];
  try {
    const v: unknown = JSON.parse(json);
    if (!Array.isArray(v)) return [];
    return v
      .filter(
        (e): e is StatusEndpoint =>
          typeof e === "object" &&
          e !== null &&
          typeof e.endpoint === "string" &&
          typeof e.state === "string" &&
          Number.isSafeInteger(e.requests) &&
          Number.isSafeInteger(e.errors),
      )
      .map((e) => ({
        endpoint: e.endpoint,
        archive: e.archive === true,
        state: e.state,
        requests: e.requests,
        errors: e.errors,
        latencyMs: Number.isSafeInteger(e.latencyMs) ? e.latencyMs : null,
        p95Ms: Number.isSafeInteger(e.p95Ms) ? e.p95Ms : null,
      }));
  } catch {
    return [];
  }
}
