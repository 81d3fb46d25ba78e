/**
 * One JSON POST over node:http(s) with keep-alive, for the RPC client's hot path.
 * @dev fetch (undici) spent about 8% of a busy worker's CPU moving a 54 MB getBlock answer through web streams
 * and copying it into one ArrayBuffer; here the body's chunks are concatenated once. Compressed answers
 * (gzip, deflate, br: what providers send when asked) are inflated off the main thread by zlib. The timeout
 * covers the whole exchange, headers and body, as fetch's AbortSignal.timeout did. An uncompressed answer of
 * known length from POOLED_MIN_BYTES up is received straight into a recycled buffer (body-pool.ts); its reader
 * calls `release()` when done with the bytes.
 */
import http from "node:http";
import https from "node:https";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { createBodyPool, type Lease, POOLED_MIN_BYTES } from "./body-pool.js";

/** What the RPC client reads of an answer; `release()` (idempotent) says `body` is no longer read. */
export type HttpAnswer = { status: number; header(name: string): string | undefined; body: Buffer; release(): void };

/**
 * Idle receive buffers kept per endpoint: a worker reads at most WORKER_CONCURRENCY answers at a time (4 by default).
 */
const POOL_IDLE = 4;
const noop = () => {};

const inflate = {
  gzip: promisify(zlib.gunzip),
  "x-gzip": promisify(zlib.gunzip),
  deflate: promisify(zlib.inflate),
  br: promisify(zlib.brotliDecompress),
} as Record<string, (b: Buffer) => Promise<Buffer>>;

/** A POST function bound to one endpoint, with its own keep-alive connections. */
export function createHttpPost(
  endpoint: string,
  maxSockets: number,
): { post(body: string, timeoutMs: number): Promise<HttpAnswer>; close(): void } {
  const url = new URL(endpoint);
  const secure = url.protocol === "https:";
  if (!secure && url.protocol !== "http:") throw new Error(`unsupported RPC URL protocol ${url.protocol}`);
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets })
    : new http.Agent({ keepAlive: true, maxSockets });
  const request = secure ? https.request : http.request;
  const pool = createBodyPool(POOL_IDLE);
  return {
    post(body, timeoutMs) {
      return new Promise<HttpAnswer>((resolve, reject) => {
        let settled = false;
        /** The pooled buffer being filled; given back if the exchange fails (no chunk is copied once settled). */
        let lease: Lease | null = null;
        const fail = (err: Error) => {
          if (settled) return;
          settled = true;
          lease?.release();
          clearTimeout(timer);
          req.destroy();
          reject(err);
        };
        const req = request(url, {
          method: "POST",
          agent,
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
            "accept-encoding": "gzip, deflate, br",
          },
        });
        const timer = setTimeout(() => {
          const err = new Error(`no complete answer within ${timeoutMs} ms`);
          err.name = "TimeoutError";
          fail(err);
        }, timeoutMs);
        req.on("error", fail);
        const done = (res: http.IncomingMessage, body: Buffer, release: () => void) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const headers = res.headers;
          resolve({
            status: res.statusCode ?? 0,
            header: (name) => String(headers[name.toLowerCase()] ?? "") || undefined,
            body,
            release,
          });
        };
        req.on("response", (res) => {
          const chunks: Buffer[] = [];
          const encoding = String(res.headers["content-encoding"] ?? "")
            .trim()
            .toLowerCase();
          const length = Number(res.headers["content-length"]);
          // Received into a pooled buffer as the chunks arrive (while they are still in cache); given back on failure.
          if ((!encoding || encoding === "identity") && Number.isSafeInteger(length) && length >= POOLED_MIN_BYTES)
            lease = pool.acquire(length);
          let filled = 0;
          res.on("data", (c: Buffer) => {
            if (settled) return;
            if (!lease) return void chunks.push(c);
            if (filled + c.length > lease.body.length) return fail(new Error("answer longer than its Content-Length"));
            c.copy(lease.body, filled);
            filled += c.length;
          });
          res.on("error", fail);
          // A body cut short (the connection closed before Content-Length or the last chunk) is a network error.
          res.on("aborted", () => fail(new Error("answer cut short: connection closed mid-body")));
          res.on("end", () => {
            if (settled) return;
            if (!res.complete || (lease && filled !== lease.body.length))
              return fail(new Error("answer cut short: connection closed mid-body"));
            if (lease) return done(res, lease.body, lease.release);
            const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
            const decoded = encoding && encoding !== "identity" ? inflate[encoding]?.(raw) : Promise.resolve(raw);
            if (!decoded) return fail(new Error(`unsupported content-encoding ${encoding}`));
            decoded.then(
              (buf) => done(res, buf, noop),
              (err: Error) => fail(err),
            );
          });
        });
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}
