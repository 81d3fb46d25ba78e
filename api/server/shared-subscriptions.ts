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
const { createSourceEventStream, execute } = createRequire(import.meta.url)("graphql") as typeof import("graphql");

/** How often an idle SSE stream gets a comment line, so that proxies keep it open (as yoga's own processor). */
const SSE_PING_MS = 12_000;

const encoder = new TextEncoder();
const PING = encoder.encode(":\n\n");
const COMPLETE = encoder.encode("event: complete\ndata:\n\n");

/** A result's JSON as yoga writes it: without the `http` and `unexpected` extensions it keeps for itself. */
function resultJson(r: ExecutionResult & { stringify?: (r: unknown) => string }): string {
  const ext = r.extensions as Record<string, unknown> | undefined;
  if (!r.errors?.length && !(ext && "http" in ext)) return r.stringify ? r.stringify(r) : JSON.stringify(r);
  const { http: _h, ...extensions } = ext ?? {};
  return JSON.stringify({
    ...r,
    errors: r.errors?.map((e) => {
      const j: { extensions?: Record<string, unknown> } = e.toJSON?.() ?? { message: e.message };
      const { http: _eh, unexpected: _u, ...x } = j.extensions ?? {};
      return { ...j, extensions: Object.keys(x).length ? x : undefined };
    }),
    extensions: Object.keys(extensions).length ? extensions : undefined,
  });
}

/**
 * The bytes of one SSE `next` event per result object: a result shared by several subscribers (above) is encoded once,
 * and each stream writes it as one chunk (yoga's processor writes two, each its own socket write).
 */
const sseBytes = new WeakMap<object, Uint8Array>();
function sseEvent(r: ExecutionResult): Uint8Array {
  let b = sseBytes.get(r);
  if (!b) sseBytes.set(r, (b = encoder.encode(`event: next\ndata: ${resultJson(r)}\n\n`)));
  return b;
}

/**
 * yoga's SSE processor for a stream of results (a subscription), but writing each result as one chunk of bytes shared
 * by every stream that is pushed the same result object.
 */
function processSSEStream(
  result: AsyncIterable<ExecutionResult>,
  fetchAPI: { ReadableStream: typeof ReadableStream; Response: typeof Response },
): Response {
  let iterator: AsyncIterator<ExecutionResult>;
  let ping: ReturnType<typeof setInterval> | undefined;
  const body = new fetchAPI.ReadableStream<Uint8Array>({
    start(controller) {
      // a first comment flushes the headers (some browsers wait for a body's first bytes)
      controller.enqueue(PING);
      ping = setInterval(() => {
        if (controller.desiredSize === null) clearInterval(ping);
        else if (controller.desiredSize > 0) controller.enqueue(PING);
      }, SSE_PING_MS);
      iterator = result[Symbol.asyncIterator]();
    },
    async pull(controller) {
      const r = await iterator.next();
      if (r.value != null) controller.enqueue(sseEvent(r.value));
      if (r.done) {
        controller.enqueue(COMPLETE);
        clearInterval(ping);
        controller.close();
      }
    },
    async cancel(reason) {
      clearInterval(ping);
      await iterator?.return?.(reason);
    },
  });
  return new fetchAPI.Response(body, {
    status: 200,
    headers: {
      "Content-Type": "text/event-stream",
      Connection: "keep-alive",
      "Cache-Control": "no-cache",
      "Content-Encoding": "none",
    },
  });
}

/**
 * Marks results whose JSON is shared: yoga's SSE and JSON writers call `result.stringify` when a result has one, and
 * so does the graphql-ws path below. `onSerialize` hears each serialization.
 */
function withSharedJson(result: ExecutionResult, onSerialize?: () => void): ExecutionResult {
  let json: string | undefined;
  Object.defineProperty(result, "stringify", {
    value: (r: unknown) => {
      if (r !== result) return JSON.stringify(r);
      if (json === undefined) {
        onSerialize?.();
        json = JSON.stringify(result);
      }
      return json;
    },
    enumerable: false,
  });
  return result;
}

/** A shared result's JSON, when graphql-ws would send exactly it as a `next` message's payload (no errors). */
function sharedPayloadJson(result: ExecutionResult): string | undefined {
  const r = result as ExecutionResult & { stringify?: (r: unknown) => string };
  return r.stringify && !r.errors?.length ? r.stringify(r) : undefined;
}

/** What `onNext` hands graphql-ws for a shared result: its JSON, spliced into the message as it is sent. */
class SharedPayload {
  constructor(readonly json: string) {}
}

/** The string the message replacer puts where a shared payload goes (NULs: no result's JSON holds them raw). */
const PAYLOAD_TOKEN = "\u0000slotline:shared-payload\u0000";
const PAYLOAD_TOKEN_JSON = JSON.stringify(PAYLOAD_TOKEN);

/**
 * graphql-ws' side of the shared pushes: each subscriber's `next` message carries the item's JSON made once for all
 * the subscribers of the operation, instead of serializing the result again per socket.
 * @dev graphql-ws builds a message as `JSON.stringify({ id, type, payload }, replacer)` and passes it straight to the
 * socket's `send`, in the same turn: `onNext` swaps the result for a SharedPayload, the replacer writes a token in
 * its place and keeps the JSON, and `send` (wrapped per socket by `wrapSocket`) splices it in. `onSerialize` hears
 * each serialization, shared or made by graphql-ws itself.
 */
export function sharedWsPushes(onSerialize?: () => void) {
  let pending: string | undefined;
  return {
    onNext: (_ctx: unknown, _id: string, _payload: unknown, _args: unknown, result: object) => {
      const json = sharedPayloadJson(result as ExecutionResult);
      if (json === undefined) {
        onSerialize?.();
        return undefined;
      }
      // graphql-ws sends what onNext returns in the result's place
      return new SharedPayload(json) as never;
    },
    jsonMessageReplacer: (key: string, value: unknown) => {
      if (key !== "payload" || !(value instanceof SharedPayload)) return value;
      pending = value.json;
      return PAYLOAD_TOKEN;
    },
    wrapSocket(socket: { send: (data: never, ...rest: never[]) => void }) {
      const send = socket.send.bind(socket) as (data: unknown, ...rest: unknown[]) => void;
      socket.send = ((data: unknown, ...rest: unknown[]) => {
        if (typeof data === "string" && pending !== undefined) {
          const at = data.indexOf(PAYLOAD_TOKEN_JSON);
          if (at >= 0) {
            data = data.slice(0, at) + pending + data.slice(at + PAYLOAD_TOKEN_JSON.length);
            pending = undefined;
          }
        }
        send(data, ...rest);
      }) as never;
    },
  };
}

/** An async iterator that maps each item of `source` with `map`; returning or throwing ends the source. */
function mapped<T, R>(source: AsyncIterator<T>, map: (item: T) => Promise<R>): AsyncIterableIterator<R> {
  const done = (value?: unknown): Promise<IteratorResult<R>> =>
    Promise.resolve({ done: true, value: value as R } as IteratorResult<R>);
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      const r = await source.next();
      return r.done ? { done: true, value: undefined } : { done: false, value: await map(r.value) };
    },
    return: (v?: unknown) => (source.return ? source.return(v).then(() => done(v)) : done(v)),
    throw: (e?: unknown) => (source.throw ? source.throw(e).then(() => done()) : Promise.reject(e)),
  };
}

/** The plugin; `onExecute` runs for each execution of a pushed item, `onSerialize` for each JSON made of one (metrics). */
export function useSharedSubscriptions(
  opts: { onExecute?: () => void; onSerialize?: () => void } = {},
): Plugin<RequestContext> {
  // Each document gets a number: yoga's parser cache hands back the same DocumentNode for the same text.
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextId = 0;
  /**
   * Results per pushed item (the same object for every subscriber of an event: api/graph/subscription.ts), then per
   * operation; dropped with the item once every subscriber has been pushed it. A subscriber that lags behind (its
   * client reads slowly) still gets the result the others got.
   */
  const perItem = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();
  /** An item that is not an object: results per event (the hub's memo of its reads, a new object per event). */
  const perEvent = new WeakMap<object, Map<string, Map<unknown, Promise<ExecutionResult>>>>();
  const subscribe = async (args: ExecutionArgs) => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source;
    const hub = (args.contextValue as RequestContext).app.events;
    let id = documentIds.get(args.document);
    if (id === undefined) documentIds.set(args.document, (id = nextId++));
    let key: string;
    try {
      key = `${id}\n${args.operationName ?? ""}\n${JSON.stringify(args.variableValues ?? {})}`;
    } catch {
      key = "";
    }
    const run = (item: unknown) => {
      opts.onExecute?.();
      return execute({ ...args, rootValue: item }) as Promise<ExecutionResult>;
    };
    return mapped(source[Symbol.asyncIterator](), async (item) => {
      if (!key || !hub) return run(item);
      let results: Map<unknown, Promise<ExecutionResult>>;
      let at: unknown = key;
      if (typeof item === "object" && item !== null) {
        let r = perItem.get(item);
        if (!r) perItem.set(item, (r = new Map()));
        results = r;
      } else {
        const event = hub.eventReads();
        let byKey = perEvent.get(event);
        if (!byKey) perEvent.set(event, (byKey = new Map()));
        let r = byKey.get(key);
        if (!r) byKey.set(key, (r = new Map()));
        results = r;
        at = item;
      }
      let result = results.get(at);
      if (!result) {
        result = Promise.resolve(run(item)).then((r) => withSharedJson(r, opts.onSerialize));
        results.set(at, result);
      }
      return result;
    });
  };
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(subscribe as never);
    },
    // After yoga's own choice: a stream it would send as SSE goes through processSSEStream instead.
    onResultProcess({ result, resultProcessor, setResultProcessor }) {
      if (resultProcessor?.name !== "processSSEResult" || !(Symbol.asyncIterator in (result as object))) return;
      setResultProcessor(processSSEStream as never, "text/event-stream");
    },
  };
}
