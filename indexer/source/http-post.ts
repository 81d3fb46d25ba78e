/**
 * One JSON POST over node:http(s) with keep-alive, for the RPC client's hot path.
 * @dev fetch (undici) spent about 8% of a busy worker's CPU moving a 54 MB getBlock answer through web streams
 * and copying it into one ArrayBuffer; here the body's chunks are concatenated once. Compressed answers
 * (gzip, deflate, br: what providers send when asked) are inflated off the main thread by zlib. The timeout
 * covers the whole exchange, headers and body, as fetch's AbortSignal.timeout did. An uncompressed answer of
 * known length from POOLED_MIN_BYTES up is received straight into a recycled buffer (body-pool.ts); its reader
 * calls `release()` when done with the bytes.
 * @dev an answer is capped at `maxAnswerBytes`, on its Content-Length, on the bytes received and on what it inflates
 * to (zlib's maxOutputLength), so a hostile or broken endpoint (a Content-Length of 5 GB, a gzip bomb) fails one
 * request with an AnswerTooLargeError, which the client retries and then dead-letters, instead of taking the
 * worker's memory or throwing out of a response listener (the process would crash, and the redelivered job again).
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

/** The default cap of one answer, compressed or inflated: a whole mainnet block with its metadata is 50-80 MB. */
export const MAX_ANSWER_BYTES = 256 * 1024 * 1024;

/** An answer over the cap: on its Content-Length, its bytes, or inflated. */
export class AnswerTooLargeError extends Error {
  override name = "AnswerTooLargeError";
}

type Inflate = (b: Buffer, opts: zlib.ZlibOptions | zlib.BrotliOptions) => Promise<Buffer>;
const inflate = {
  gzip: promisify(zlib.gunzip),
  "x-gzip": promisify(zlib.gunzip),
  deflate: promisify(zlib.inflate),
  br: promisify(zlib.brotliDecompress),
} as Record<string, Inflate>;

const tooLarge = (what: string, max: number) =>
  new AnswerTooLargeError(`RPC answer too large: ${what} over the cap of ${max} bytes`);

/** A POST function bound to one endpoint, with its own keep-alive connections. */
export function createHttpPost(
  endpoint: string,
  maxSockets: number,
  maxAnswerBytes = MAX_ANSWER_BYTES,
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
          try {
            receive(res);
          } catch (err) {
            // nothing thrown here may escape the listener: it would crash the process
            fail(err instanceof Error ? err : new Error(String(err)));
          }
        });
        const receive = (res: http.IncomingMessage) => {
          const chunks: Buffer[] = [];
          const encoding = String(res.headers["content-encoding"] ?? "")
            .trim()
            .toLowerCase();
          const length = Number(res.headers["content-length"]);
          if (length > maxAnswerBytes)
            return fail(tooLarge(`Content-Length ${res.headers["content-length"]}`, maxAnswerBytes));
          let received = 0;
          // Received into a pooled buffer as the chunks arrive (while they are still in cache); given back on failure.
          if ((!encoding || encoding === "identity") && Number.isSafeInteger(length) && length >= POOLED_MIN_BYTES)
            lease = pool.acquire(length);
          let filled = 0;
          res.on("data", (c: Buffer) => {
            if (settled) return;
            received += c.length;
            if (received > maxAnswerBytes) return fail(tooLarge(`${received} bytes received`, maxAnswerBytes));
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
            const decoded =
              encoding && encoding !== "identity"
                ? inflate[encoding]?.(raw, { maxOutputLength: maxAnswerBytes })
                : Promise.resolve(raw);
            if (!decoded) return fail(new Error(`unsupported content-encoding ${encoding}`));
            decoded.then(
              (buf) => done(res, buf, noop),
              (err: NodeJS.ErrnoException) =>
                fail(
                  err.code === "ERR_BUFFER_TOO_LARGE" ? tooLarge(`${encoding} answer inflated`, maxAnswerBytes) : err,
                ),
            );
          });
        };
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}
