/**
 * Observability as a yoga plugin: request ids (x-request-id in and out), latency and counts per operation,
 * errors by code (HTTP), and masking: an unexpected error becomes "Unexpected error." with the request id, and its
 * details (message, stack, SQL) go only to the log.
 */
import { type DocumentNode, type ExecutionResult, type GraphQLError, Kind } from "graphql";
import { type Plugin, createGraphQLError, handleStreamOrSingleExecutionResult } from "graphql-yoga";
import type { RequestContext } from "../context.js";
import { isExpected } from "../errors.js";
import type { ApiMetrics } from "../metrics.js";

const MAX_OPERATION_LABELS = 200;

/** Operation names become metric labels: only well-formed ones, and at most MAX_OPERATION_LABELS distinct. */
function operationLabeler() {
  const seen = new Set<string>();
  return (doc: DocumentNode, name: string | null | undefined): string => {
    const op = doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION && (!name || d.name?.value === name));
    const n = name ?? (op?.kind === Kind.OPERATION_DEFINITION ? op.name?.value : undefined);
    if (!n) return "anonymous";
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(n)) return "invalid";
    if (seen.has(n)) return n;
    if (seen.size >= MAX_OPERATION_LABELS) return "other";
    seen.add(n);
    return n;
  };
}

/** Replaces unexpected errors by a masked one (expected: ours, or graphql's own without an original error). */
function maskResult(result: ExecutionResult, ctx: RequestContext): ExecutionResult | null {
  if (!result.errors?.length) return null;
  let changed = false;
  const errors = result.errors.map((e) => {
    if (isExpected(e) || isExpected(e.originalError) || e.originalError == null) return e;
    changed = true;
    ctx.log().error({ err: e.originalError, path: e.path?.join(".") }, "resolver failed");
    return createGraphQLError("Unexpected error.", {
      nodes: e.nodes,
      path: e.path,
      extensions: { code: "INTERNAL_SERVER_ERROR", requestId: ctx.requestId },
    });
  });
  return changed ? { ...result, errors } : null;
}

/** The observability plugin. */
export function useObservability(metrics: ApiMetrics, requestIds: WeakMap<Request, string>): Plugin<RequestContext> {
  const label = operationLabeler();
  const hook =
    (type: "execute" | "subscribe") =>
    ({ args }: { args: { document: DocumentNode; operationName?: string | null; contextValue: RequestContext } }) => {
      const operation = label(args.document, args.operationName);
      const started = performance.now();
      metrics.requests.inc({ operation, type });
      const ctx = args.contextValue;
      const done = (payload: { result: ExecutionResult; setResult: (r: ExecutionResult) => void }) => {
        const masked = maskResult(payload.result, ctx);
        if (masked) payload.setResult(masked);
      };
      if (type === "execute")
        return {
          onExecuteDone(payload: never) {
            metrics.seconds.observe({ operation }, (performance.now() - started) / 1000);
            return handleStreamOrSingleExecutionResult(payload, done as never);
          },
        };
      return {
        onSubscribeResult(payload: never) {
          return handleStreamOrSingleExecutionResult(payload, done as never);
        },
      };
    };
  return {
    onExecute: hook("execute") as never,
    onSubscribe: hook("subscribe") as never,
    onExecutionResult({ result }) {
      // Every HTTP result, rejected ones included (params, parse, validation, guards, execution).
      if (!result || Symbol.asyncIterator in result) return;
      for (const e of result.errors ?? []) {
        const g = e as GraphQLError;
        metrics.errors.inc({
          code: String(
            g.extensions?.code ?? (g.originalError as GraphQLError | undefined)?.extensions?.code ?? "GRAPHQL_ERROR",
          ),
        });
      }
    },
    onResponse({ request, response }) {
      const id = requestIds.get(request);
      if (id) response.headers.set("x-request-id", id);
    },
  };
}
