/**
 * A pool of RPC endpoints behind the one RpcClient type: each endpoint is its own createRpcClient (its budget,
 * concurrency, batches, fatal codes and answer caps), and the pool chooses, rests, asks again and hedges.
 * @dev
 * - Choice: the eligible endpoint with the lowest score, latency EWMA x (1 + 4 x error EWMA) x (1 + in flight /
 *   concurrency); errors count timeouts, 429s, network and HTTP failures and malformed answers.
 * - Rest: a failed request rests its endpoint 500 ms doubling to 30 s (at least a 429's Retry-After); a rested
 *   endpoint is tried again once its rest is over by one request (a probe; others keep away until it ends), and
 *   one success makes it healthy. An endpoint refused for good
 *   (HTTP 401/403/404/405/501/505) is dead; a method it answers -32601 goes to the others.
 * - A block one endpoint lacks (getBlock -32004, -32014, -32001, -32011) is asked of every other endpoint, the
 *   archive last, before the answer stands. A skipped slot (-32007 / -32009) is asked of one more endpoint (the
 *   archive first): it stands when that endpoint agrees, or when no other endpoint can answer (down or none); if
 *   the other endpoint has the block, its block is used; if it says "not available" the answer becomes -32004,
 *   so the slot is retried, never recorded as skipped on one endpoint's word.
 * - getBlocks / getBlocksWithLimit are asked of two endpoints and the union used: a slot missing from one
 *   endpoint's list is not taken as skipped.
 * - Hedge: a getBlock batch still unanswered after the endpoint's p95 getBlock time (once it has 20 samples) is
 *   sent to the next endpoint too; the first body to arrive is parsed, the other is released unread.
 * - One endpoint and no archive: that endpoint's createRpcClient with its own retries, as before; the pool only
 *   counts its requests, errors and latency (never rests it: there is nowhere else to go).
 */
import { RpcResponseError } from "../../core/errors.js";
import type { RpcEndpoint } from "../../core/config.js";
import type { Logger } from "../../core/logger.js";
import type { Metrics } from "../../core/metrics.js";
import { NOT_YET_CODES, SKIPPED_CODES } from "./blocks.js";
import {
  backoffMs,
  createRpcClient,
  jsonText,
  type BatchOptions,
  type RpcAnswer,
  type RpcCall,
  type RpcClient,
  type RpcOptions,
  RpcFatalError,
  type RpcFailure,
} from "./rpc.js";

/** Codes of a getBlock that another endpoint may well have: not yet, cleaned up, no history. */
const MISSING_CODES = new Set([...NOT_YET_CODES, -32001, -32011]);
/** HTTP statuses after which an endpoint is refused for good (rpc.ts's DEAD_ENDPOINT). */
const DEAD_STATUS = /^http_(401|403|404|405|501|505)$/;
const REST_BASE_MS = 500;
const REST_MAX_MS = 30_000;
const LATENCY_SAMPLES = 200;
const HEDGE_MIN_SAMPLES = 20;

/** What `slotline status` and /health show of one endpoint. */
export type EndpointStatus = {
  endpoint: string;
  archive: boolean;
  state: "healthy" | "resting" | "dead";
  restingMs: number;
  requests: number;
  share: number;
  errors: number;
  rateLimited: number;
  latencyMs: number | null;
  p95Ms: number | null;
};

/** Options of the pool. */
export type PoolOptions = Pick<RpcOptions, "batchSize" | "timeoutMs" | "maxAnswerBytes"> & {
  endpoints: RpcEndpoint[];
  archive?: RpcEndpoint | undefined;
  /** defaults of an endpoint without its own rps / concurrency */
  maxRps: number;
  concurrency: number;
  /** attempts of one request over the whole pool (default 8) */
  maxAttempts?: number;
  /** hedge slow getBlock batches (default true) */
  hedge?: boolean;
  logger?: Logger;
  metrics?: Metrics;
};

/** The pool: an RpcClient, its archive-first view for history, and each endpoint's status. */
export type RpcPool = RpcClient & {
  /** the same pool with the archive asked first (backfills) */
  history(): RpcClient;
  endpoints(): EndpointStatus[];
};

type Ep = {
  name: string;
  archive: boolean;
  client: RpcClient;
  concurrency: number;
  inFlight: number;
  dead: boolean;
  deadMethods: Set<string>;
  restUntil: number;
  /** rested since its last success: the first request after its rest goes to it */
  probe: boolean;
  failures: number;
  latencyEwma: number;
  errorEwma: number;
  samples: number[];
  blockSamples: number[];
  requests: number;
  errors: number;
  rateLimited: number;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The endpoint's label in metrics and status: its position and host, never its path or query (keys live there). */
export function endpointName(url: string, i: number, archive = false): string {
  return `${archive ? "archive" : i + 1}:${new URL(url).host}`;
}

function p95(samples: number[]): number | null {
  if (samples.length === 0) return null;
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]!;
}

/** The kind of a failure, from the error rpc.ts threw ("gave up after n attempts (kind: ...)"). */
function kindOf(err: unknown): string {
  if (err instanceof RpcFatalError) return `fatal_${err.code}`;
  const m = /\((http_\d+|timeout|network|malformed):/.exec((err as Error)?.message ?? "");
  return m?.[1] ?? (err as Error)?.name ?? "error";
}

/** Creates the pool; with one endpoint and no archive, a plain createRpcClient with a status. */
export function createRpcPool(opts: PoolOptions): RpcPool {
  const single = opts.endpoints.length === 1 && !opts.archive;
  const maxAttempts = opts.maxAttempts ?? 8;
  const m = opts.metrics;
  const make = (e: RpcEndpoint, i: number, archive: boolean): Ep => {
    const concurrency = e.concurrency ?? opts.concurrency;
    const name = endpointName(e.url, i, archive);
    return {
      name,
      archive,
      client: createRpcClient({
        url: e.url,
        maxRps: e.maxRps ?? opts.maxRps,
        concurrency,
        batchSize: opts.batchSize,
        timeoutMs: opts.timeoutMs,
        ...(opts.maxAnswerBytes ? { maxAnswerBytes: opts.maxAnswerBytes } : {}),
        // In a pool a failure goes to the next endpoint at once; the pool does the retrying.
        maxAttempts: single ? maxAttempts : 1,
        ...(opts.logger ? { logger: opts.logger.child({ endpoint: name }) } : {}),
        ...(m ? { metrics: m } : {}),
      }),
      concurrency,
      inFlight: 0,
      dead: false,
      deadMethods: new Set(),
      restUntil: 0,
      probe: false,
      failures: 0,
      latencyEwma: 0,
      errorEwma: 0,
      samples: [],
      blockSamples: [],
      requests: 0,
      errors: 0,
      rateLimited: 0,
    };
  };
  const live = opts.endpoints.map((e, i) => make(e, i, false));
  const archive = opts.archive ? make(opts.archive, 0, true) : undefined;
  const all = archive ? [...live, archive] : live;
  for (const ep of all) m?.rpcEndpointState.set({ endpoint: ep.name }, 0);

  const setState = (ep: Ep) =>
    m?.rpcEndpointState.set({ endpoint: ep.name }, ep.dead ? 2 : ep.restUntil > Date.now() ? 1 : 0);

  function succeeded(ep: Ep, ms: number, calls: number, getBlock: boolean) {
    ep.requests += calls;
    ep.failures = 0;
    ep.restUntil = 0;
    ep.probe = false;
    ep.latencyEwma = ep.samples.length === 0 ? ms : ep.latencyEwma * 0.8 + ms * 0.2;
    ep.errorEwma *= 0.8;
    const push = (a: number[]) => {
      a.push(ms);
      if (a.length > LATENCY_SAMPLES) a.shift();
    };
    push(ep.samples);
    if (getBlock) push(ep.blockSamples);
    m?.rpcEndpointRequests.inc({ endpoint: ep.name }, calls);
    m?.rpcEndpointLatency.observe({ endpoint: ep.name }, ms / 1000);
    setState(ep);
  }

  function failed(ep: Ep, err: unknown, method: string, calls: number, limitedBefore: number) {
    const kind = kindOf(err);
    ep.requests += calls;
    ep.errors++;
    m?.rpcEndpointRequests.inc({ endpoint: ep.name }, calls);
    m?.rpcEndpointErrors.inc({ endpoint: ep.name, kind });
    if (err instanceof RpcFatalError) {
      if (err.code === -32601) ep.deadMethods.add(method);
      else if (typeof err.code === "string" && DEAD_STATUS.test(err.code)) ep.dead = true;
      setState(ep);
      return;
    }
    const limited = ep.client.stats().rateLimited > limitedBefore || kind === "http_429";
    if (limited) ep.rateLimited++;
    // A single endpoint is never rested: there is nowhere else to go, and its client retried already.
    if (single) return;
    ep.errorEwma = ep.errorEwma * 0.8 + 0.2;
    ep.failures++;
    const rest = Math.min(REST_MAX_MS, REST_BASE_MS * 2 ** (ep.failures - 1)) * (limited ? 2 : 1);
    ep.restUntil = Date.now() + rest;
    ep.probe = true;
    setState(ep);
    opts.logger?.warn({ endpoint: ep.name, kind, rest_ms: rest, failures: ep.failures }, "rpc endpoint resting");
  }

  const score = (ep: Ep) => ep.latencyEwma * (1 + 4 * ep.errorEwma) * (1 + ep.inFlight / ep.concurrency);

  /** Endpoints to try for `method`, best first: live ones by score, the archive last (first for history). */
  function ranked(method: string, archiveFirst: boolean, exclude: Set<Ep> = new Set()): Ep[] {
    const usable = all.filter((ep) => !ep.dead && !ep.deadMethods.has(method) && !exclude.has(ep));
    const now = Date.now();
    const rested = (ep: Ep) => ep.restUntil > now;
    return usable.sort(
      (a, b) =>
        Number(rested(a)) - Number(rested(b)) ||
        // An endpoint whose rest is over is tried again at once (a probe), whatever its score.
        Number(b.probe) - Number(a.probe) ||
        (archiveFirst ? Number(b.archive) - Number(a.archive) : Number(a.archive) - Number(b.archive)) ||
        score(a) - score(b),
    );
  }

  /** Runs `fn` on the best endpoint, failing over and backing off, up to maxAttempts over the pool. */
  async function run<T>(
    method: string,
    calls: number,
    archiveFirst: boolean,
    fn: (ep: Ep) => Promise<T>,
    exclude?: Set<Ep>,
    /** a hedge's race already lost: the failure it ends with is not the endpoint's */
    lost?: () => boolean,
    attempts = maxAttempts,
  ): Promise<{ value: T; ep: Ep }> {
    let last: unknown;
    for (let attempt = 1; ; attempt++) {
      const order = ranked(method, archiveFirst, exclude);
      const ep = order[0];
      if (!ep) {
        if (last) throw last;
        throw new RpcFatalError(method, "no_endpoint", "no endpoint of the pool can serve this method");
      }
      const wait = ep.restUntil - Date.now();
      // Every endpoint is resting: wait for the first to be tried again (bounded by the backoff of this attempt).
      if (wait > 0) await sleep(Math.min(wait, Math.max(50, backoffMs(attempt, 250, 2_000))));
      if (ep.probe && ep.restUntil <= Date.now()) {
        // One probe at a time: the endpoint stays resting for others until this request succeeds or times out.
        ep.probe = false;
        ep.restUntil = Date.now() + opts.timeoutMs;
      }
      const limitedBefore = ep.client.stats().rateLimited;
      const t0 = performance.now();
      ep.inFlight++;
      try {
        const value = await fn(ep);
        succeeded(ep, performance.now() - t0, calls, method === "getBlock");
        return { value, ep };
      } catch (err) {
        if (err instanceof RpcResponseError) {
          // A JSON-RPC error answer: the endpoint is fine, the call has its answer.
          succeeded(ep, performance.now() - t0, calls, false);
          throw err;
        }
        if (lost?.()) throw err;
        failed(ep, err, method, calls, limitedBefore);
        last = err;
        if (err instanceof RpcFatalError && !(err.code === -32601 || DEAD_STATUS.test(String(err.code)))) throw err;
        if (attempt >= attempts) throw err;
      } finally {
        ep.inFlight--;
      }
    }
  }

  /** getBlock answers of `calls` that another endpoint should be asked about, improved in place. */
  async function secondOpinions<T>(calls: RpcCall[], out: RpcAnswer<T>[], asked: Ep, archiveFirst: boolean) {
    const pending = out
      .map((a, i) => ({ a, i }))
      .filter(
        ({ a, i }) =>
          calls[i]!.method === "getBlock" &&
          a.error !== undefined &&
          (MISSING_CODES.has(a.error.code) || SKIPPED_CODES.has(a.error.code)),
      )
      .map(({ i }) => i);
    if (pending.length === 0) return;
    const tried = new Set<Ep>([asked]);
    // Skipped answers need one more word (the archive's first); missing ones are asked of everyone.
    let skipped = pending.filter((i) => SKIPPED_CODES.has(out[i]!.error!.code));
    let missing = pending.filter((i) => !SKIPPED_CODES.has(out[i]!.error!.code));
    for (;;) {
      const next = ranked("getBlock", archiveFirst || skipped.length > 0, tried).filter(
        (ep) => ep.restUntil <= Date.now(),
      )[0];
      if (!next || (skipped.length === 0 && missing.length === 0)) break;
      tried.add(next);
      const idx = [...skipped, ...missing];
      let answers: RpcAnswer<T>[];
      try {
        answers = (
          await run(
            "getBlock",
            idx.length,
            false,
            (ep) => ep.client.batch<T>(idx.map((i) => calls[i]!)),
            new Set(all.filter((ep) => ep !== next)),
            undefined,
            1,
          )
        ).value;
      } catch {
        continue;
      }
      const nextMissing: number[] = [];
      idx.forEach((i, k) => {
        const a = answers[k]!;
        const wasSkipped = SKIPPED_CODES.has(out[i]!.error!.code);
        if (!a.error) {
          out[i] = a;
          m?.rpcSecondOpinions.inc({ outcome: "found" });
        } else if (wasSkipped) {
          if (SKIPPED_CODES.has(a.error.code)) m?.rpcSecondOpinions.inc({ outcome: "agreed" });
          else {
            // One endpoint says skipped, another not available: not concluded; retried later.
            m?.rpcSecondOpinions.inc({ outcome: "disagreed" });
            out[i] = { error: { code: -32004, message: `${a.error.message} (another endpoint says skipped)` } };
          }
        } else if (SKIPPED_CODES.has(a.error.code)) {
          // Not available on one endpoint, skipped on another: not concluded; the first answer (-32004) stands.
          m?.rpcSecondOpinions.inc({ outcome: "disagreed" });
        } else nextMissing.push(i);
      });
      skipped = [];
      missing = nextMissing;
    }
    if (skipped.length > 0) m?.rpcSecondOpinions.inc({ outcome: "unavailable" }, skipped.length);
  }

  /** One batch on one endpoint, hedged on a second one when it is slower than the first one's p95. */
  async function hedgedBatch<T>(calls: RpcCall[], how: BatchOptions, archiveFirst: boolean) {
    const order = ranked("getBlock", archiveFirst).filter((ep) => ep.restUntil <= Date.now());
    const first = order[0];
    const second = order[1];
    const delay = first ? p95(first.blockSamples) : null;
    if (
      opts.hedge === false ||
      !first ||
      !second ||
      delay === null ||
      first.blockSamples.length < HEDGE_MIN_SAMPLES ||
      calls.length > opts.batchSize
    )
      return run("getBlock", calls.length, archiveFirst, (ep) => ep.client.batch<T>(calls, how));
    // The first body to arrive is parsed (and takes the caller's beforeParse turn); the other is released unread.
    let winner: string | null = null;
    const lost = Symbol("lost");
    const racer = (id: string, only?: Ep) => {
      const claim = () => {
        winner ??= id;
        return winner === id;
      };
      const wrapped: BatchOptions = {
        beforeParse: async () => {
          if (claim()) await how.beforeParse?.();
        },
        parse: (body, release) => {
          if (!claim()) {
            release();
            return lost;
          }
          if (how.parse) return how.parse(body, release);
          const v: unknown = JSON.parse(jsonText(body));
          release();
          return v;
        },
      };
      return run(
        "getBlock",
        calls.length,
        archiveFirst,
        (e) => e.client.batch<T>(calls, wrapped),
        only ? new Set(all.filter((x) => x !== only)) : undefined,
        () => winner !== null && winner !== id,
        only ? 1 : maxAttempts,
      );
    };
    const primary = racer("primary");
    let timer: NodeJS.Timeout | undefined;
    const hedge = new Promise<{ value: RpcAnswer<T>[]; ep: Ep }>((resolve, reject) => {
      timer = setTimeout(
        () => {
          if (winner) return reject(new Error("not hedged"));
          racer("hedge", second).then(resolve, reject);
        },
        Math.max(10, delay),
      );
    });
    try {
      const r = await Promise.any([primary, hedge]);
      m?.rpcHedges.inc({ outcome: winner === "hedge" ? "won" : "lost" });
      return r;
    } catch (err) {
      throw (err as AggregateError).errors?.[0] ?? err;
    } finally {
      clearTimeout(timer);
      primary.catch(() => {});
      hedge.catch(() => {});
    }
  }

  /** The single endpoint's client as it is, its requests, errors and latency counted. */
  function counted(ep: Ep): RpcClient {
    const timed = async <T>(method: string, calls: number, fn: () => Promise<T>): Promise<T> => {
      const before = ep.client.stats().rateLimited;
      const t0 = performance.now();
      try {
        const value = await fn();
        succeeded(ep, performance.now() - t0, calls, method === "getBlock");
        return value;
      } catch (err) {
        if (err instanceof RpcResponseError) succeeded(ep, performance.now() - t0, calls, false);
        else failed(ep, err, method, calls, before);
        throw err;
      }
    };
    return {
      call: <T>(method: string, params: unknown[] = []) => timed(method, 1, () => ep.client.call<T>(method, params)),
      batch: <T>(calls: RpcCall[], how?: BatchOptions) =>
        timed(calls[0]?.method ?? "batch", calls.length, () => ep.client.batch<T>(calls, how)),
      stats: () => ep.client.stats(),
      failure: () => ep.client.failure(),
    };
  }

  function client(archiveFirst: boolean): RpcClient {
    return {
      async call<T>(method: string, params: unknown[] = []) {
        if (method === "getBlocks" || method === "getBlocksWithLimit")
          return unionOfBlocks(method, params, archiveFirst) as T;
        if (method !== "getBlock")
          return (await run(method, 1, archiveFirst, (ep) => ep.client.call<T>(method, params))).value;
        // A getBlock error answer is an answer of its endpoint, which another endpoint may contradict.
        const { value, ep } = await run(method, 1, archiveFirst, (e) =>
          e.client.call<T>(method, params).then(
            (result): RpcAnswer<T> => ({ result }),
            (err: unknown): RpcAnswer<T> => {
              // The message without the "getBlock: CODE " prefix RpcResponseError puts before it.
              if (err instanceof RpcResponseError)
                return { error: { code: err.code, message: err.message.replace(`${method}: ${err.code} `, "") } };
              throw err;
            },
          ),
        );
        const out = [value];
        await secondOpinions([{ method, params }], out, ep, archiveFirst);
        if (out[0]!.error) throw new RpcResponseError(method, out[0]!.error.code, out[0]!.error.message);
        return out[0]!.result as T;
      },
      async batch<T>(calls: RpcCall[], how: BatchOptions = {}) {
        const blocks = calls.length > 0 && calls.every((c) => c.method === "getBlock");
        const { value, ep } = blocks
          ? await hedgedBatch<T>(calls, how, archiveFirst)
          : await run(calls[0]?.method ?? "batch", calls.length, archiveFirst, (e) => e.client.batch<T>(calls, how));
        if (blocks) await secondOpinions(calls, value, ep, archiveFirst);
        return value;
      },
      stats: () => {
        const s = { requests: 0, calls: 0, retries: 0, rateLimited: 0, splits: 0 };
        for (const ep of all) for (const [k, v] of Object.entries(ep.client.stats())) s[k as keyof typeof s] += v;
        return s;
      },
      failure: (): RpcFailure | null => {
        // The pool has failed for good only when every endpoint has.
        const failures = all.map((ep) => ep.client.failure());
        return failures.every(Boolean) ? failures[0]! : null;
      },
    };
  }

  /** getBlocks on two endpoints, the union of their lists (a slot one of them lacks is not concluded skipped). */
  async function unionOfBlocks(method: string, params: unknown[], archiveFirst: boolean): Promise<number[]> {
    const { value, ep } = await run(method, 1, archiveFirst, (e) => e.client.call<number[]>(method, params));
    const other = ranked(method, true, new Set([ep])).filter((e) => e.restUntil <= Date.now())[0];
    if (!other || !Array.isArray(value)) return value;
    let more: number[];
    try {
      more = (
        await run(
          method,
          1,
          true,
          (e) => e.client.call<number[]>(method, params),
          new Set(all.filter((e) => e !== other)),
          undefined,
          1,
        )
      ).value;
    } catch {
      return value;
    }
    if (!Array.isArray(more)) return value;
    const union = [...new Set([...value, ...more])].sort((a, b) => a - b);
    if (union.length > value.length) m?.rpcSecondOpinions.inc({ outcome: "found" }, union.length - value.length);
    const limit = method === "getBlocksWithLimit" ? Number(params[1]) : Infinity;
    return Number.isFinite(limit) ? union.slice(0, limit) : union;
  }

  const main = single ? counted(live[0]!) : client(false);
  const hist = single ? main : client(true);
  return {
    ...main,
    history: () => hist,
    endpoints: () => {
      const total = all.reduce((n, ep) => n + ep.requests, 0);
      const now = Date.now();
      return all.map((ep) => {
        const s = single ? ep.client.stats() : undefined;
        const requests = ep.requests;
        return {
          endpoint: ep.name,
          archive: ep.archive,
          state: ep.dead ? "dead" : ep.restUntil > now ? "resting" : "healthy",
          restingMs: Math.max(0, ep.restUntil - now),
          requests,
          share: single ? 1 : total === 0 ? 0 : ep.requests / total,
          errors: ep.errors,
          rateLimited: s ? s.rateLimited : ep.rateLimited,
          latencyMs: ep.samples.length ? Math.round(ep.latencyEwma) : null,
          p95Ms: p95(ep.samples),
        };
      });
    },
  };
}
