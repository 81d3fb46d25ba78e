/**
 * The JSON-RPC client of the hot path: raw JSON (no per-field parsing), batches, a client-side rate limit
 * and concurrency limit, and retries of transient failures with exponential backoff and jitter.
 * @dev a 429 pauses every request of this client until its Retry-After has passed, so a rate-limited
 * endpoint sees no request inside that window.
 */
import { MalformedResponseError, RetryableError, RpcResponseError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics.js";

/** One call of a batch. */
export type RpcCall = { method: string; params: unknown[] };
/** One answer of a batch: exactly one of result and error. */
export type RpcAnswer<T = unknown> = { result?: T; error?: { code: number; message: string } };

/** The client. */
export type RpcClient = {
  /** One call; a JSON-RPC error is thrown as RpcResponseError. */
  call<T>(method: string, params?: unknown[]): Promise<T>;
  /** Many calls in JSON-RPC batches of at most `batchSize`; answers in call order, errors per call. */
  batch<T>(calls: RpcCall[]): Promise<RpcAnswer<T>[]>;
  /** Counts since start. */
  stats(): { requests: number; calls: number; retries: number; rateLimited: number };
};

/** Options; the defaults suit a paid endpoint. */
export type RpcOptions = {
  url: string;
  maxRps: number;
  concurrency: number;
  batchSize: number;
  timeoutMs: number;
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
  let inFlight = 0;
  const waiting: (() => void)[] = [];
  let pausedUntil = 0;
  // Token bucket: `maxRps` calls per second, bursts up to one second's worth.
  let tokens = opts.maxRps;
  let refilledAt = Date.now();
  let nextId = 1;
  const counts = { requests: 0, calls: 0, retries: 0, rateLimited: 0 };

  async function takeTokens(n: number) {
    for (;;) {
      const now = Date.now();
      if (now < pausedUntil) {
        await sleep(pausedUntil - now);
        continue;
      }
      tokens = Math.min(opts.maxRps, tokens + ((now - refilledAt) / 1000) * opts.maxRps);
      refilledAt = now;
      // A batch larger than the bucket waits for a full bucket and goes (it cannot ever fit otherwise).
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

  /** Sends one HTTP request (a call or a batch) with retries; returns the parsed body. */
  async function send(body: unknown, label: string, calls: number): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      await takeTokens(calls);
      let kind: string;
      let retryAfterMs: number | undefined;
      let lastError: unknown;
      try {
        const res = await slot(() =>
          fetch(opts.url, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(opts.timeoutMs),
          }).then(async (r) => ({ status: r.status, headers: r.headers, text: await r.text() })),
        );
        counts.requests++;
        counts.calls += calls;
        opts.metrics?.rpcRequests.inc({ method: label }, calls);
        if (res.status === 429) {
          counts.rateLimited++;
          opts.metrics?.rpcRateLimited.inc();
          const ra = Number(res.headers.get("retry-after"));
          retryAfterMs = Number.isFinite(ra) && ra > 0 ? ra * 1000 : undefined;
          kind = "http_429";
        } else if (res.status >= 500 || res.status === 408) {
          kind = `http_${res.status}`;
        } else if (res.status !== 200) {
          // 4xx other than 429/408: a request the endpoint will never accept. No retry storm.
          opts.metrics?.rpcErrors.inc({ method: label, kind: `http_${res.status}` });
          throw new RpcResponseError(label, res.status, `HTTP ${res.status}: ${res.text.slice(0, 200)}`);
        } else {
          try {
            return JSON.parse(res.text);
          } catch (err) {
            kind = "malformed";
            lastError = err;
          }
        }
      } catch (err) {
        if (err instanceof RpcResponseError) throw err;
        lastError = err;
        kind = (err as Error).name === "TimeoutError" ? "timeout" : "network";
      }
      opts.metrics?.rpcErrors.inc({ method: label, kind });
      if (attempt >= maxAttempts) {
        const msg = `${label}: gave up after ${attempt} attempts (${kind})`;
        if (kind === "malformed") throw new MalformedResponseError(msg, { cause: lastError });
        throw new RetryableError(msg, { cause: lastError });
      }
      counts.retries++;
      opts.metrics?.rpcRetries.inc({ method: label });
      const wait = Math.max(retryAfterMs ?? 0, backoffMs(attempt));
      if (retryAfterMs) pausedUntil = Math.max(pausedUntil, Date.now() + retryAfterMs);
      opts.logger?.debug({ method: label, attempt, kind, wait_ms: Math.round(wait) }, "rpc retry");
      await sleep(wait);
    }
  }

  function checkAnswer(method: string, a: unknown): RpcAnswer {
    if (typeof a !== "object" || a === null) throw new MalformedResponseError(`${method}: answer is not an object`);
    const o = a as { result?: unknown; error?: { code?: unknown; message?: unknown } };
    if (o.error !== undefined) {
      if (typeof o.error?.code !== "number") throw new MalformedResponseError(`${method}: error without a numeric code`);
      return { error: { code: o.error.code, message: String(o.error.message ?? "") } };
    }
    if (!("result" in o)) throw new MalformedResponseError(`${method}: answer has neither result nor error`);
    return { result: o.result };
  }

  return {
    async call<T>(method: string, params: unknown[] = []) {
      const body = await send({ jsonrpc: "2.0", id: nextId++, method, params }, method, 1);
      const a = checkAnswer(method, body);
      if (a.error) throw new RpcResponseError(method, a.error.code, a.error.message);
      return a.result as T;
    },
    async batch<T>(calls: RpcCall[]) {
      const out: RpcAnswer<T>[] = new Array(calls.length);
      const chunks: [number, RpcCall[]][] = [];
      for (let i = 0; i < calls.length; i += opts.batchSize) chunks.push([i, calls.slice(i, i + opts.batchSize)]);
      await Promise.all(
        chunks.map(async ([offset, chunk]) => {
          const firstId = nextId;
          nextId += chunk.length;
          const body = chunk.map((c, k) => ({ jsonrpc: "2.0", id: firstId + k, method: c.method, params: c.params }));
          const label = chunk[0]!.method;
          const res = await send(body, label, chunk.length);
          if (!Array.isArray(res)) throw new MalformedResponseError(`${label}: batch answer is not an array`);
          // Match answers by id, not by position: JSON-RPC allows any order.
          const byId = new Map<number, unknown>();
          for (const a of res) byId.set(Number((a as { id?: unknown })?.id), a);
          chunk.forEach((c, k) => {
            const a = byId.get(firstId + k);
            if (a === undefined) throw new MalformedResponseError(`${c.method}: batch answer lacks id ${firstId + k}`);
            out[offset + k] = checkAnswer(c.method, a) as RpcAnswer<T>;
          });
        }),
      );
      return out;
    },
    stats: () => ({ ...counts }),
  };
}
