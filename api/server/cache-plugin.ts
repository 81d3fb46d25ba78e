/**
 * Caching. HTTP: a response made only of immutable rows (transactions and what they contain) from finalized
 * slots is `Cache-Control: public, max-age=31536000, immutable`; anything else is `no-cache`. Response cache: the
 * answers of repeated queries, valid until the next indexer event (every event changes the generation they are
 * filed under), in two layers: this process's memory, then Redis (shared by every API process). Identical queries
 * that miss at the same time run once: the first one executes, the others wait for its answer. Right after an event,
 * while that first one runs, the others get the previous generation's answer for up to `staleMs` (stale while
 * revalidate), so an event does not stall every viewer of a hot page behind one execution.
 */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { type DocumentNode, type GraphQLSchema, Kind, type SelectionSetNode } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { ApiContext, RequestContext } from "../context.js";
import { fieldsOf, namedType, tag } from "./guards.js";
import { sql } from "../sql/index.js";

/**
 * Response cache settings: TTL of entries (they also go stale at the next event); how long after an event the
 * previous answer may still be served while the new one is computed (default 1,000 ms; 0: never); the most answers
 * and bytes this process keeps per generation (defaults 2,000 and 64 MB).
 */
export type ResponseCacheOptions = {
  ttlSeconds: number;
  staleMs?: number;
  maxEntries?: number;
  maxBytes?: number;
  /** the most bytes this process writes to Redis per TTL (default DEFAULT_REDIS_MAX_BYTES); past it, memory only */
  redisMaxBytes?: number;
};

/** How a cached query was answered: from memory, stale from memory, another request's execution, Redis, or executed. */
export type CacheOutcome = "memory" | "stale" | "shared" | "redis" | "miss";

/** An answer as cached: the execution result and its cache-control header. */
type Answer = { result: object; header: string };

/** One query's place in a generation: its answer once known, and the execution in flight until then. */
type Entry = { answer: Answer | null; expires: number; pending: Promise<Answer | null> | null };

/**
 * One generation's answers in this process, by parsed document (yoga's parser cache returns one per text), then
 * operation and variables; `since` is when its event arrived.
 */
class Generation {
  readonly byDocument = new WeakMap<DocumentNode, Map<string, Entry>>();
  entries = 0;
  bytes = 0;
  constructor(
    readonly id: string,
    readonly since: number,
  ) {}
  get(doc: DocumentNode, key: string): Entry | undefined {
    return this.byDocument.get(doc)?.get(key);
  }
  set(doc: DocumentNode, key: string, entry: Entry): void {
    let byKey = this.byDocument.get(doc);
    if (!byKey) this.byDocument.set(doc, (byKey = new Map()));
    if (!byKey.has(key)) this.entries++;
    byKey.set(key, entry);
  }
  delete(doc: DocumentNode, key: string): void {
    if (this.byDocument.get(doc)?.delete(key)) this.entries--;
  }
}

/** The most a follower waits for the execution it joined before running its own (the read pool's statement timeout). */
const FOLLOWER_WAIT_MS = 5_000;
/** Answers larger than this (as JSON) are left to Redis. */
const MAX_ENTRY_BYTES = 256 * 1024;

/**
 * Most bytes this process writes to the shared Redis per TTL (entries live that long), by default: the queue's Redis
 * runs `noeviction`, so a client varying its variables must not be able to fill it.
 */
export const DEFAULT_REDIS_MAX_BYTES = 64 * 1024 * 1024;

/**
 * graphql's CommonJS build, the copy Pothos built the schema with: coercion checks its types by `instanceof`, and under
 * vitest an `import` resolves to the ESM build, whose classes are not the schema's.
 */
const { getOperationAST, getVariableValues } = createRequire(import.meta.url)("graphql") as typeof import("graphql");

/**
 * A query's variables as the executor sees them: coerced against the operation's definitions, defaults applied,
 * undeclared ones dropped. Keying on them, `$n` omitted and `$n: 5` given its default 5 are one entry, and junk
 * variables a client adds make no new one. Null when they do not coerce (the execution reports the error).
 */
function coercedVariables(
  schema: GraphQLSchema,
  doc: DocumentNode,
  operationName: string | null | undefined,
  raw: unknown,
) {
  const op = getOperationAST(doc, operationName);
  if (!op) return null;
  if (!op.variableDefinitions?.length) return {};
  const r = getVariableValues(schema, op.variableDefinitions, (raw ?? {}) as Record<string, unknown>, { maxErrors: 1 });
  return r.coerced ?? null;
}

/**
 * Bytes written to Redis within the last `ttlMs`, counted in two tumbling windows of `ttlMs`: what is still alive
 * there is at most the two windows' sum, which `take` keeps under `max`.
 */
function redisBudget(max: number, ttlMs: number) {
  let start = performance.now();
  let current = 0;
  let previous = 0;
  return {
    take(bytes: number): boolean {
      const now = performance.now();
      if (now - start >= ttlMs) {
        previous = now - start >= 2 * ttlMs ? 0 : current;
        current = 0;
        start = now;
      }
      if (previous + current + bytes > max) return false;
      current += bytes;
      return true;
    },
  };
}

/** Object types whose rows never change once their slot is finalized (others: reserves, metadata, status). */
const IMMUTABLE_TYPES = new Set(["Transaction", "Swap", "Transfer", "ProgramEvent"]);
/** Root fields that read only immutable rows. */
const IMMUTABLE_ROOTS = new Set(["transaction", "__typename"]);
const FOREVER = "public, max-age=31536000, immutable";

/** True when the operation selects only immutable types below an immutable root field. */
export function immutableShape(schema: GraphQLSchema, doc: DocumentNode, operationName?: string | null): boolean {
  const op = doc.definitions.find(
    (d) => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName),
  );
  if (!op || op.kind !== Kind.OPERATION_DEFINITION || op.operation !== "query") return false;
  const fragments = new Map(
    doc.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])),
  );
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

/** The caching plugin; the response cache is on when `responseCache` is set and ctx has Redis and events. */
export function useCaching(
  ctx: ApiContext,
  opts: { responseCache: ResponseCacheOptions | null; onCache?: (outcome: CacheOutcome) => void },
): Plugin<RequestContext> {
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
  const rc = opts.responseCache;
  const shared = rc && redis && events ? { redis, events, ttl: rc.ttlSeconds } : null;
  const staleMs = rc?.staleMs ?? 1_000;
  const maxEntries = rc?.maxEntries ?? 2_000;
  const maxBytes = rc?.maxBytes ?? 64 * 1024 * 1024;
  const toRedis = redisBudget(rc?.redisMaxBytes ?? DEFAULT_REDIS_MAX_BYTES, (rc?.ttlSeconds ?? 0) * 1000);
  const counted = (outcome: CacheOutcome) => opts.onCache?.(outcome);
  let current = new Generation("", 0);
  let previous: Generation | null = null;
  /** This process's generation for the hub's current one: a new, empty one after every event. */
  const generationNow = (): Generation => {
    const id = shared!.events.generation();
    if (id !== current.id) {
      previous = current;
      current = new Generation(id, shared!.events.generationSince());
    }
    return current;
  };
  const redisKey = (
    generation: string,
    c: { params?: { query?: string; operationName?: string } },
    variables: unknown,
  ) =>
    `${ctx.config.QUEUE_PREFIX}:api-cache:${generation}:${createHash("sha256")
      .update(JSON.stringify([c.params?.query ?? "", c.params?.operationName ?? null, variables ?? null]))
      .digest("hex")}`;
  return {
    // Synchronous unless the answer must come from Redis, another request's execution, or SQL (the immutable check):
    // an async hook costs every request a promise and a tick in envelop's chain.
    onExecute({ args, setResultAndStopExecution }) {
      const c = args.contextValue as RequestContext & {
        request?: Request;
        params?: { query?: string; operationName?: string };
      };
      const immutable = shapeOf(args.schema, args.document, args.operationName);
      const serve = (answer: Answer, outcome: CacheOutcome) => {
        if (c.request) decisions.set(c.request, answer.header);
        counted(outcome);
        setResultAndStopExecution(answer.result);
      };
      // The answer's cache-control: immutable rows of finalized slots are cacheable forever.
      const decide = (result: { errors?: readonly unknown[] }): string | Promise<string> => {
        if (!(immutable && !result.errors?.length && !c.cache.missing && c.cache.maxSlot != null)) return "no-cache";
        return c.reader
          .rows<{ ok: boolean }>(
            sql`select exists (select 1 from slots where slot = ${c.cache.maxSlot}::int8 and status = 'indexed' and commitment = 'finalized') as ok`,
          )
          .catch(() => [{ ok: false }])
          .then((r) => (r[0]?.ok ? FOREVER : "no-cache"));
      };
      const variables =
        shared && c.params?.query
          ? coercedVariables(args.schema, args.document, args.operationName, args.variableValues)
          : null;
      if (!shared || variables === null) {
        return {
          onExecuteDone({ result }: { result: { errors?: readonly unknown[] } | AsyncIterable<unknown> }) {
            if (Symbol.asyncIterator in result) return;
            const header = decide(result);
            if (typeof header === "string") return void (c.request && decisions.set(c.request, header));
            return header.then((h) => void (c.request && decisions.set(c.request, h)));
          },
        } as never;
      }
      const now = performance.now();
      const generation = generationNow();
      const doc = args.document;
      const key = `${args.operationName ?? ""}\u0000${JSON.stringify(variables)}`;
      const entry = generation.get(doc, key);
      if (entry?.answer && entry.expires > now) return serve(entry.answer, "memory") as never;
      if (entry?.pending) {
        // Another request is executing this query for this generation: within staleMs of the event, the previous
        // generation's answer now; otherwise its answer when it has it, or our own execution if it fails.
        const stale = previous && now - generation.since <= staleMs ? previous.get(doc, key) : undefined;
        if (stale?.answer && stale.expires > now) return serve(stale.answer, "stale") as never;
        return entry.pending.then((answer) => {
          if (answer) return serve(answer, "shared");
          counted("miss");
          return hooksFor(undefined);
        }) as never;
      }
      // This request executes the query (or finds it in Redis) for everyone who asks meanwhile.
      let settle!: (a: Answer | null) => void;
      const pending = new Promise<Answer | null>((r) => (settle = r));
      const mine: Entry = { answer: null, expires: 0, pending };
      generation.set(doc, key, mine);
      const giveUp = () => {
        clearTimeout(timer);
        if (generation.get(doc, key) === mine) generation.delete(doc, key);
        settle(null);
      };
      const timer = setTimeout(giveUp, FOLLOWER_WAIT_MS).unref();
      c.signal.addEventListener("abort", giveUp, { once: true });
      const keep = (answer: Answer, json: string | null) => {
        clearTimeout(timer);
        c.signal.removeEventListener("abort", giveUp);
        const bytes = json?.length ?? 0;
        if (
          generation.get(doc, key) === mine &&
          json !== null &&
          bytes <= MAX_ENTRY_BYTES &&
          generation.entries <= maxEntries &&
          generation.bytes + bytes <= maxBytes
        ) {
          mine.answer = answer;
          mine.expires = performance.now() + shared.ttl * 1000;
          mine.pending = null;
          generation.bytes += bytes;
        } else if (generation.get(doc, key) === mine) generation.delete(doc, key);
        settle(answer);
      };
      const rkey = redisKey(generation.id, c, variables);
      function hooksFor(own: { rkey: string } | undefined) {
        return {
          onExecuteDone({ result }: { result: { errors?: readonly unknown[] } | AsyncIterable<unknown> }) {
            if (Symbol.asyncIterator in result) return;
            const done = (header: string) => {
              if (c.request) decisions.set(c.request, header);
              if (!own) return;
              if (result.errors?.length) return giveUp();
              const answer = { result: result as object, header };
              const json = JSON.stringify(answer);
              // Beyond the budget the answer stays in this process' memory only.
              if (json.length <= MAX_ENTRY_BYTES && toRedis.take(json.length))
                void shared!.redis.set(own.rkey, json, "EX", shared!.ttl).catch(() => {});
              keep(answer, json);
            };
            const header = decide(result);
            return typeof header === "string" ? done(header) : header.then(done);
          },
        };
      }
      return Promise.race([
        shared.redis.get(rkey).catch(() => null),
        new Promise<null>((r) => setTimeout(() => r(null), 50).unref()),
      ]).then((hit) => {
        if (!hit) {
          counted("miss");
          return hooksFor({ rkey });
        }
        const answer = JSON.parse(hit) as Answer;
        keep(answer, hit);
        return serve(answer, "redis");
      }) as never;
    },
    onResponse({ request, response }) {
      const d = decisions.get(request);
      if (d && response.status === 200) response.headers.set("cache-control", d);
    },
  };
}
