/**
 * Caching. HTTP: a response made only of immutable rows (transactions and what they contain) from finalized
 * slots is `Cache-Control: public, max-age=31536000, immutable`; anything else is `no-cache`. Redis: a shared
 * response cache for repeated queries, keyed by the latest indexer event, so every event invalidates it.
 */
import { createHash } from "node:crypto";
import { type DocumentNode, type GraphQLSchema, Kind, type SelectionSetNode } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { ApiContext, RequestContext } from "./context.js";
import { fieldsOf, namedType, tag } from "./guards.js";
import { sql } from "./sql.js";

/** Response cache settings: TTL of entries (they also go stale at the next event). */
export type ResponseCacheOptions = { ttlSeconds: number };

/** Object types whose rows never change once their slot is finalized (others: reserves, metadata, status). */
const IMMUTABLE_TYPES = new Set(["Transaction", "Swap", "Transfer", "ProgramEvent"]);
/** Root fields that read only immutable rows. */
const IMMUTABLE_ROOTS = new Set(["transaction", "__typename"]);
const FOREVER = "public, max-age=31536000, immutable";

/** True when the operation selects only immutable types below an immutable root field. */
export function immutableShape(schema: GraphQLSchema, doc: DocumentNode, operationName?: string | null): boolean {
  const op = doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName));
  if (!op || op.kind !== Kind.OPERATION_DEFINITION || op.operation !== "query") return false;
  const fragments = new Map(doc.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const walk = (set: SelectionSetNode, typeName: string, root: boolean): boolean =>
    set.selections.every((s) => {
      if (s.kind === Kind.INLINE_FRAGMENT) return walk(s.selectionSet, s.typeCondition?.name.value ?? typeName, root);
      if (s.kind === Kind.FRAGMENT_SPREAD) {
        const f = fragments.get(s.name.value);
        return !!f && walk(f.selectionSet, f.typeCondition.name.value, root);
      }
      if (root && !IMMUTABLE_ROOTS.has(s.name.value)) return false;
      if (s.name.value === "__typename") return true;
      const parent = schema.getType(typeName);
      const field = parent ? fieldsOf(parent)?.[s.name.value] : undefined;
      if (!field) return false;
      const t = namedType(field.type);
      if (tag(t) === "GraphQLScalarType" || tag(t) === "GraphQLEnumType") return true;
      return IMMUTABLE_TYPES.has(t.name) && !!s.selectionSet && walk(s.selectionSet, t.name, false);
    });
  return walk(op.selectionSet, schema.getQueryType()?.name ?? "Query", true);
}

/** The caching plugin; the Redis response cache is on when `responseCache` is set and ctx has Redis and events. */
export function useCaching(ctx: ApiContext, opts: { responseCache: ResponseCacheOptions | null }): Plugin<RequestContext> {
  const decisions = new WeakMap<Request, string>();
  // The same DocumentNode comes back from yoga's parser cache for the same text: decide its shape once.
  const shapes = new WeakMap<object, Map<string, boolean>>();
  const shapeOf = (schema: GraphQLSchema, doc: DocumentNode, operationName?: string | null) => {
    let byName = shapes.get(doc);
    if (!byName) shapes.set(doc, (byName = new Map()));
    let v = byName.get(operationName ?? "");
    if (v === undefined) byName.set(operationName ?? "", (v = immutableShape(schema, doc, operationName)));
    return v;
  };
  const { redis, events } = ctx;
  const shared = opts.responseCache && redis && events ? { redis, events, ttl: opts.responseCache.ttlSeconds } : null;
  const keyOf = (c: RequestContext & { params?: { query?: string; operationName?: string } }, variables: unknown) =>
    `${ctx.config.QUEUE_PREFIX}:api-cache:${shared!.events.generation()}:${createHash("sha256")
      .update(JSON.stringify([c.params?.query ?? "", c.params?.operationName ?? null, variables ?? null]))
      .digest("hex")}`;
  return {
    // Synchronous unless the Redis cache is on or the immutable check needs SQL: an async hook costs every request
    // a promise and a tick in envelop's chain.
    onExecute({ args, setResultAndStopExecution }) {
      const c = args.contextValue as RequestContext & { request?: Request; params?: { query?: string } };
      const immutable = shapeOf(args.schema, args.document, args.operationName);
      const key = shared && c.params?.query ? keyOf(c, args.variableValues) : null;
      const finish = (result: { errors?: readonly unknown[] }, header: string) => {
        if (c.request) decisions.set(c.request, header);
        if (key && !result.errors?.length) void shared!.redis.set(key, JSON.stringify({ result, header }), "EX", shared!.ttl).catch(() => {});
      };
      const hooks = {
        onExecuteDone({ result }: { result: { errors?: readonly unknown[] } | AsyncIterable<unknown> }) {
          if (Symbol.asyncIterator in result) return;
          if (!(immutable && !result.errors?.length && !c.cache.missing && c.cache.maxSlot != null)) return finish(result, "no-cache");
          return c.reader
            .rows<{ ok: boolean }>(sql`select exists (select 1 from slots where slot = ${c.cache.maxSlot}::int8 and status = 'indexed' and commitment = 'finalized') as ok`)
            .catch(() => [{ ok: false }])
            .then((r) => finish(result, r[0]?.ok ? FOREVER : "no-cache"));
        },
      };
      if (!key) return hooks as never;
      return Promise.race([shared!.redis.get(key).catch(() => null), new Promise<null>((r) => setTimeout(() => r(null), 50).unref())]).then((hit) => {
        if (!hit) return hooks;
        const cached = JSON.parse(hit) as { result: object; header: string };
        if (c.request) decisions.set(c.request, cached.header);
        setResultAndStopExecution(cached.result);
        return undefined;
      }) as never;
    },
    onResponse({ request, response }) {
      const d = decisions.get(request);
      if (d && response.status === 200) response.headers.set("cache-control", d);
    },
  };
}
