/**
 * One JSON POST over node:http(s) with keep-alive, for the RPC client's hot path.
 * @dev fetch (undici) spent about 8% of a busy worker's CPU moving a 54 MB getBlock answer through web streams
 * and copying it into one ArrayBuffer; here the body's chunks are concatenated once. Compressed answers
 * (gzip, deflate, br: what providers send when asked) are inflated off the main thread by zlib. The timeout
 * covers the whole exchange, headers and body, as fetch's AbortSignal.timeout did.
 */
import http from "node:http";
import https from "node:https";
import { promisify } from "node:util";
import zlib from "node:zlib";

/** What the RPC client reads of an answer. */
export type HttpAnswer = { status: number; header(name: string): string | undefined; body: Buffer };

const inflate = {
  gzip: promisify(zlib.gunzip),
  "x-gzip": promisify(zlib.gunzip),
  deflate: promisify(zlib.inflate),
  br: promisify(zlib.brotliDecompress),
} as Record<string, (b: Buffer) => Promise<Buffer>>;

/** A POST function bound to one endpoint, with its own keep-alive connections. */
export function createHttpPost(endpoint: string, maxSockets: number): { post(body: string, timeoutMs: number): Promise<HttpAnswer>; close(): void } {
  const url = new URL(endpoint);
  const secure = url.protocol === "https:";
  if (!secure && url.protocol !== "http:") throw new Error(`unsupported RPC URL protocol ${url.protocol}`);
  const agent = secure ? new https.Agent({ keepAlive: true, maxSockets }) : new http.Agent({ keepAlive: true, maxSockets });
  const request = secure ? https.request : http.request;
  return {
    post(body, timeoutMs) {
      return new Promise<HttpAnswer>((resolve, reject) => {
        let settled = false;
        const fail = (err: Error) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          req.destroy();
          reject(err);
        };
        const req = request(url, {
          method: "POST",
          agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), "accept-encoding": "gzip, deflate, br" },
        });
        const timer = setTimeout(() => {
          const err = new Error(`no complete answer within ${timeoutMs} ms`);
          err.name = "TimeoutError";
          fail(err);
        }, timeoutMs);
        req.on("error", fail);
        req.on("response", (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", fail);
          // A body cut short (the connection closed before Content-Length or the last chunk) is a network error.
          res.on("aborted", () => fail(new Error("answer cut short: connection closed mid-body")));
          res.on("end", () => {
            if (settled) return;
            if (!res.complete) return fail(new Error("answer cut short: connection closed mid-body"));
            const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
            const encoding = String(res.headers["content-encoding"] ?? "").trim().toLowerCase();
            const decoded = encoding && encoding !== "identity" ? inflate[encoding]?.(raw) : Promise.resolve(raw);
            if (!decoded) return fail(new Error(`unsupported content-encoding ${encoding}`));
            decoded.then(
              (buf) => {
                if (settled) return;
                settled = true;
                clearTimeout(timer);
                const headers = res.headers;
                resolve({ status: res.statusCode ?? 0, header: (name) => String(headers[name.toLowerCase()] ?? "") || undefined, body: buf });
              },
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
