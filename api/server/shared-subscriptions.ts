/**
 * Shared subscription pushes as a yoga plugin: the subscribers of one operation (the same document, operation name and
 * variables) are pushed one execution of each item and one serialization of its result, whoever pulls it first.
 * @dev without it each subscriber executes and serializes every item on its own: an event reaching 500 subscribers of
 * two documents ran 500 executions (and their JSON) where 2 give the same answer. Each subscriber still opens its
 * own source stream (the hub's caps count it, its filter runs on its own) and its own result hooks (error masking
 * names its request id); only what is the same for all of them is done once.
 */
import { createRequire } from "node:module";
import type { DocumentNode, ExecutionArgs, ExecutionResult } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { RequestContext } from "../context.js";

/**
 * graphql's executor from the copy the schema was built with (its CommonJS build, which node resolves for every
 * package): under a bundler's resolution an `import` could load the ES build, whose functions refuse the schema as
 * coming from another realm (see api/sql/lookahead.ts).
 */
const { createSourceEventStream, execute } = createRequire(import.meta.url)(
  "graphql",
) as typeof import("graphql");

/** Marks results whose JSON is shared: yoga's SSE and JSON writers call `result.stringify` when a result has one. */
function withSharedJson(result: ExecutionResult): ExecutionResult {
  let json: string | undefined;
  Object.defineProperty(result, "stringify", {
    value: (r: unknown) =>
      r === result ? (json ??= JSON.stringify(result)) : JSON.stringify(r),
    enumerable: false,
  });
  return result;
}

/** An async iterator that maps each item of `source` with `map`; returning or throwing ends the source. */
function mapped<T, R>(
  source: AsyncIterator<T>,
  map: (item: T) => Promise<R>,
): AsyncIterableIterator<R> {
  const done = (value?: unknown): Promise<IteratorResult<R>> =>
    Promise.resolve({ done: true, value: value as R } as IteratorResult<R>);
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      const r = await source.next();
      return r.done
        ? { done: true, value: undefined }
        : { done: false, value: await map(r.value) };
    },
    return: (v?: unknown) =>
      source.return ? source.return(v).then(() => done(v)) : done(v),
    throw: (e?: unknown) =>
      source.throw ? source.throw(e).then(() => done()) : Promise.reject(e),
  };
}

/** The plugin; a no-op for a server without events (its subscriptions are refused by the resolvers). */
export function useSharedSubscriptions(): Plugin<RequestContext> {
  // Each document gets a number: yoga's parser cache hands back the same DocumentNode for the same text.
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextId = 0;
  /**
   * Results per event: keyed by the hub's memo of the event's reads (a new object per event, dropped with it), then
   * by operation, then by the pushed item (the same object, or the same slot number, for every subscriber).
   */
  const perEvent = new WeakMap<
    object,
    Map<string, Map<unknown, Promise<ExecutionResult>>>
  >();
  const subscribe = async (args: ExecutionArgs) => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source;
    const ctx = args.contextValue as RequestContext;
    const hub = ctx.app.events;
    if (!hub) return source;
    let id = documentIds.get(args.document);
    if (id === undefined) documentIds.set(args.document, (id = nextId++));
    let key: string;
    try {
      key = `${id}\n${args.operationName ?? ""}\n${JSON.stringify(args.variableValues ?? {})}`;
    } catch {
      key = "";
    }
    const run = (item: unknown) =>
      execute({ ...args, rootValue: item }) as
        Promise<ExecutionResult> | ExecutionResult as Promise<ExecutionResult>;
    return mapped(source[Symbol.asyncIterator](), async (item) => {
      if (!key) return run(item);
      const event = hub.eventReads();
      let byKey = perEvent.get(event);
      if (!byKey) perEvent.set(event, (byKey = new Map()));
      let byItem = byKey.get(key);
      if (!byItem) byKey.set(key, (byItem = new Map()));
      let result = byItem.get(item);
      if (!result) {
        result = Promise.resolve(run(item)).then(withSharedJson);
        byItem.set(item, result);
      }
      return result;
    });
  };
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(subscribe as never);
    },
  };
}
