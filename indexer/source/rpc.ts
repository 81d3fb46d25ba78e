/**
 * The JSON-RPC client of the hot path: raw JSON (no per-field parsing), batches, a client-side rate limit
 * and concurrency limit, and retries of transient failures with exponential backoff and jitter.
 * @dev a 429 pauses every request of this client until its Retry-After has passed, so a rate-limited
 * endpoint sees no request inside that window. The rate limit counts JSON-RPC calls (a batch of n is n) at the
 * moment they are sent, and no batch is larger than one second's budget. A request that cannot succeed however
 * often it is sent (HTTP 4xx other than 408/429, HTTP 501/505, JSON-RPC -32600/-32601/-32602/-32700/-32015) is
 * sent once: it throws RpcFatalError, is reported by `failure()` (the ops endpoint's /health), and an endpoint or
 * method that is missing altogether (HTTP 401/403/404/405/501/505, -32601) gets no further request.
 */
import { isAscii } from "node:buffer";
import { MalformedResponseError, NonRetryableError, RetryableError, RpcResponseError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import type { Metrics } from "../../core/metrics.js";
import { parseExact } from "./exact-json.js";
import { createHttpPost } from "./http-post.js";

/** One call of a batch. */
export type RpcCall = { method: string; params: unknown[] };
/** One answer of a batch: exactly one of result and error. */
export type RpcAnswer<T = unknown> = { result?: T; error?: { code: number; message: string } };

/** Options of one batch. */
export type BatchOptions = {
  beforeParse?: () => Promise<void>;
  parse?: (body: Buffer, release: () => void) => unknown;
};

/** The client. */
export type RpcClient = {
  /** One call; a JSON-RPC error is thrown as RpcResponseError. */
  call<T>(method: string, params?: unknown[]): Promise<T>;
  /**
   * Many calls in JSON-RPC batches of at most `batchSize`; answers in call order, errors per call. `beforeParse`
   * is awaited after a response body has arrived and before it is parsed (the worker's processing lock); `parse`
   * replaces JSON.parse of the body (getBlock's lazily parsed transactions).
   */
  batch<T>(calls: RpcCall[], opts?: BatchOptions): Promise<RpcAnswer<T>[]>;
  /** Counts since start. */
  stats(): { requests: number; calls: number; retries: number; rateLimited: number; splits: number };
  /** The first request that failed for good (a configuration problem), or null. */
  failure(): RpcFailure | null;
};

/** A request the endpoint will never answer: what, and when. */
export type RpcFailure = { method: string; code: number | string; message: string; at: string };

/** A failure that retrying cannot fix: a missing method or endpoint, bad params, an unsupported version. */
export class RpcFatalError extends NonRetryableError {
  override name = "RpcFatalError";
  constructor(
    readonly method: string,
    readonly code: number | string,
    message: string,
  ) {
    super(`${method}: ${code} ${message}`);
  }
}

/**
 * JSON-RPC codes that fail the same way on every retry: invalid request, method not found, invalid params,
 * parse error, and -32015 (transaction version not supported: the request lacks maxSupportedTransactionVersion).
 */
export const FATAL_CODES = new Set([-32600, -32601, -32602, -32700, -32015]);
/** HTTP statuses after which this endpoint (or, for -32601, this method) gets no further request. */
const DEAD_ENDPOINT = new Set([401, 403, 404, 405, 501, 505]);

/** Options; the defaults suit a paid endpoint. */
export type RpcOptions = {
  url: string;
  maxRps: number;
  concurrency: number;
  batchSize: number;
  timeoutMs: number;
  /** cap of one answer in bytes, compressed or inflated (default http-post's MAX_ANSWER_BYTES) */
  maxAnswerBytes?: number;
  maxAttempts?: number;
  logger?: Logger;
  metrics?: Pick<Metrics, "rpcRequests" | "rpcErrors" | "rpcRateLimited" | "rpcRetries">;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Backoff for attempt n (1-based): 250 ms doubling to 10 s, with full jitter. */
export function backoffMs(attempt: number, baseMs = 250, maxMs = 10_000): number {
  return Math.random() * Math.min(maxMs, baseMs * 2 ** (attempt - 1));
}

/** Creates the client. */
export function createRpcClient(opts: RpcOptions): RpcClient {
  const maxAttempts = opts.maxAttempts ?? 8;
  // A batch never needs more than one second's budget: the bucket could not hold it otherwise.
  const batchSize = Math.max(1, Math.min(opts.batchSize, opts.maxRps));
  let inFlight = 0;
  const waiting: (() => void)[] = [];
  let pausedUntil = 0;
  // Token bucket: `maxRps` calls per second, bursts up to one second's worth.
  let tokens = opts.maxRps;
  let refilledAt = Date.now();
  let nextId = 1;
  const counts = { requests: 0, calls: 0, retries: 0, rateLimited: 0, splits: 0 };
  let failure: RpcFailure | null = null;
  let deadEndpoint: RpcFatalError | null = null;
  const deadMethods = new Map<string, RpcFatalError>();
  const http = createHttpPost(opts.url, opts.concurrency, opts.maxAnswerBytes);

  /** Records a fatal answer (logged once), and stops sending to a missing endpoint or method. */
  function fatal(method: string, code: number | string, message: string): RpcFatalError {
    const err = new RpcFatalError(method, code, message);
    if (!failure) {
      failure = { method, code, message: message.slice(0, 300), at: new Date().toISOString() };
      opts.logger?.error({ method, code, err }, "rpc request can never succeed; fix the endpoint or configuration");
    }
    if (code === -32601) deadMethods.set(method, err);
    if (typeof code === "string" && DEAD_ENDPOINT.has(Number(code.slice(5)))) deadEndpoint = err;
    opts.metrics?.rpcErrors.inc({ method, kind: `fatal_${code}` });
    return err;
  }

  function refuse(method: string): void {
    const err = deadEndpoint ?? deadMethods.get(method);
    if (err) throw new RpcFatalError(method, err.code, `not sent: an earlier request failed for good (${err.message})`);
  }

  async function takeTokens(n: number) {
    for (;;) {
      const now = Date.now();
      if (now < pausedUntil) {
        await sleep(pausedUntil - now);
        continue;
      }
      tokens = Math.min(opts.maxRps, tokens + ((now - refilledAt) / 1000) * opts.maxRps);
      refilledAt = now;
      const need = Math.min(n, opts.maxRps);
      if (tokens >= need) {
        tokens -= need;
        return;
      }
      await sleep(((need - tokens) / opts.maxRps) * 1000);
    }
  }

  async function slot<T>(fn: () => Promise<T>): Promise<T> {
    if (inFlight >= opts.concurrency) await new Promise<void>((r) => waiting.push(r));
    inFlight++;
    try {
      return await fn();
    } finally {
      inFlight--;
      waiting.shift()?.();
    }
  }

  /**
   * Sends one HTTP request (a call or a batch) with retries; returns the parsed body. With `split`, a failure
   * other than 429 throws SplitBatch instead of retrying, so the caller retries two halves.
   */
  async function send(
    body: unknown,
    label: string,
    calls: number,
    split = false,
    how: BatchOptions = {},
  ): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      let kind: string;
      let retryAfterMs: number | undefined;
      let lastError: unknown;
      try {
        // Tokens are taken (and any 429 pause waited out) right before the request leaves, inside the
        // concurrency slot: requests queued behind a pause cannot burst past the budget when it ends.
        const res = await slot(async () => {
          await takeTokens(calls);
          refuse(label);
          return http.post(JSON.stringify(body), opts.timeoutMs);
        });
        counts.requests++;
        counts.calls += calls;
        opts.metrics?.rpcRequests.inc({ method: label }, calls);
        if (res.status === 429) {
          counts.rateLimited++;
          opts.metrics?.rpcRateLimited.inc();
          const ra = Number(res.header("retry-after"));
          retryAfterMs = Number.isFinite(ra) && ra > 0 ? ra * 1000 : undefined;
          // Every request of this client waits, not only this one's retry.
          if (retryAfterMs) pausedUntil = Math.max(pausedUntil, Date.now() + retryAfterMs);
          kind = "http_429";
        } else if ((res.status >= 500 && res.status !== 501 && res.status !== 505) || res.status === 408) {
          kind = `http_${res.status}`;
          lastError = new Error(`HTTP ${res.status}: ${res.body.toString("utf8", 0, 480).slice(0, 120)}`);
        } else if (res.status !== 200) {
          // A request the endpoint will never accept: one call, no retry storm.
          const text = res.body.toString("utf8", 0, 800).slice(0, 200);
          res.release();
          throw fatal(label, `http_${res.status}`, `HTTP ${res.status}: ${text}`);
        } else {
          if (how.beforeParse) await how.beforeParse();
          try {
            // The parse takes the body over: it releases it once nothing reads it.
            return (how.parse ?? parseWhole)(res.body, res.release);
          } catch (err) {
            kind = "malformed";
            lastError = err;
          }
        }
        // Whatever was not returned above no longer reads the body (idempotent for a parse that released it).
        res.release();
      } catch (err) {
        if (err instanceof RpcFatalError) throw err;
        lastError = err;
        kind = (err as Error).name === "TimeoutError" ? "timeout" : "network";
      }
      opts.metrics?.rpcErrors.inc({ method: label, kind });
      if (split && kind !== "http_429") throw new SplitBatch();
      if (attempt >= maxAttempts) {
        const msg = `${label}: gave up after ${attempt} attempts (${kind}: ${(lastError as Error | undefined)?.message ?? "no detail"})`;
        if (kind === "malformed") throw new MalformedResponseError(msg, { cause: lastError });
        throw new RetryableError(msg, { cause: lastError });
      }
      counts.retries++;
      opts.metrics?.rpcRetries.inc({ method: label });
      const wait = Math.max(retryAfterMs ?? 0, backoffMs(attempt));
      opts.logger?.debug({ method: label, attempt, kind, wait_ms: Math.round(wait) }, "rpc retry");
      await sleep(wait);
    }
  }

  function checkAnswer(method: string, a: unknown): RpcAnswer {
    if (typeof a !== "object" || a === null) throw new MalformedResponseError(`${method}: answer is not an object`);
    const o = a as { result?: unknown; error?: { code?: unknown; message?: unknown } };
    if (o.error !== undefined) {
      if (typeof o.error?.code !== "number")
        throw new MalformedResponseError(`${method}: error without a numeric code`);
      const error = { code: o.error.code, message: String(o.error.message ?? "") };
      if (FATAL_CODES.has(error.code)) fatal(method, error.code, error.message);
      return { error };
    }
    if (!("result" in o)) throw new MalformedResponseError(`${method}: answer has neither result nor error`);
    return { result: o.result };
  }

  return {
    async call<T>(method: string, params: unknown[] = []) {
      refuse(method);
      const body = await send({ jsonrpc: "2.0", id: nextId++, method, params }, method, 1);
      const a = checkAnswer(method, body);
      if (a.error) {
        if (FATAL_CODES.has(a.error.code)) throw new RpcFatalError(method, a.error.code, a.error.message);
        throw new RpcResponseError(method, a.error.code, a.error.message);
      }
      return a.result as T;
    },
    async batch<T>(calls: RpcCall[], batchOpts: BatchOptions = {}) {
      const out: RpcAnswer<T>[] = new Array(calls.length);
      /**
       * Sends calls [offset, offset + n) as one batch; after a failure, as two halves (squid-sdk's reduceBatchOnRetry).
       */
      const run = async (offset: number, chunk: RpcCall[]): Promise<void> => {
        const label = chunk[0]!.method;
        refuse(label);
        const firstId = nextId;
        nextId += chunk.length;
        const body = chunk.map((c, k) => ({ jsonrpc: "2.0", id: firstId + k, method: c.method, params: c.params }));
        let res: unknown;
        try {
          res = await send(body, label, chunk.length, chunk.length > 1, batchOpts);
        } catch (err) {
          if (!(err instanceof SplitBatch)) throw err;
          counts.splits++;
          const half = Math.ceil(chunk.length / 2);
          opts.logger?.debug({ method: label, calls: chunk.length, half }, "rpc batch failed; retrying as two halves");
          await Promise.all([run(offset, chunk.slice(0, half)), run(offset + half, chunk.slice(half))]);
          return;
        }
        if (!Array.isArray(res)) throw new MalformedResponseError(`${label}: batch answer is not an array`);
        // Match answers by id, not by position: JSON-RPC allows any order.
        const byId = new Map<number, unknown>();
        for (const a of res) byId.set(Number((a as { id?: unknown })?.id), a);
        chunk.forEach((c, k) => {
          const a = byId.get(firstId + k);
          if (a === undefined) throw new MalformedResponseError(`${c.method}: batch answer lacks id ${firstId + k}`);
          out[offset + k] = checkAnswer(c.method, a) as RpcAnswer<T>;
        });
      };
      const chunks: Promise<void>[] = [];
      for (let i = 0; i < calls.length; i += batchSize) chunks.push(run(i, calls.slice(i, i + batchSize)));
      await Promise.all(chunks);
      return out;
    },
    stats: () => ({ ...counts }),
    failure: () => failure,
  };
}

const ASCII_CHUNK = 64 * 1024;

/**
 * A JSON response body as text that parses to the same value as its UTF-8 decode.
 * @dev a getBlock answer is ASCII but for a few characters in logs (emoji): decoding it as UTF-8 costs four times
 * a latin1 decode and yields a two-byte string. Instead, 64 KB chunks are checked with isAscii (simdutf) and each
 * run of non-ASCII bytes, which in valid JSON can only sit inside a string, is replaced by its \u escapes. Invalid
 * UTF-8 becomes U+FFFD, as a UTF-8 decode makes it.
 */
export function jsonText(buf: Buffer): string {
  if (isAscii(buf)) return buf.toString("latin1");
  const parts: Buffer[] = [];
  let from = 0;
  for (let c = 0; c < buf.length; c += ASCII_CHUNK) {
    const end = Math.min(buf.length, c + ASCII_CHUNK);
    if (c >= from && isAscii(buf.subarray(c, end))) continue;
    for (let i = Math.max(c, from); i < end; i++) {
      if (buf[i]! < 0x80) continue;
      let j = i + 1;
      while (j < buf.length && buf[j]! >= 0x80) j++;
      parts.push(buf.subarray(from, i));
      const chars = buf.toString("utf8", i, j);
      let esc = "";
      for (let k = 0; k < chars.length; k++) esc += `\\u${chars.charCodeAt(k).toString(16).padStart(4, "0")}`;
      parts.push(Buffer.from(esc, "latin1"));
      from = j;
      i = j - 1;
    }
  }
  parts.push(buf.subarray(from));
  return Buffer.concat(parts).toString("latin1");
}

/** The default parse: the whole body with JSON.parse (integers past 2^53 as decimal text), holding no reference to it. */
function parseWhole(body: Buffer, release: () => void): unknown {
  const value: unknown = parseExact(jsonText(body));
  release();
  return value;
}

/** Internal: a failed batch is retried as two halves. */
class SplitBatch extends Error {}
