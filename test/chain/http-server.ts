/**
 * The HTTP JSON-RPC front: body limits, single and batch requests (answered in request order),
 * GET /health, and the 429 fault.
 * @dev Results arrive as pre-serialized text or bytes and are written around a fixed envelope;
 * nothing large is re-serialized per request.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Faults } from "./faults.js";
import type { Outcome } from "./rpc-methods.js";

const MAX_BODY = 50 * 1024;

/** What the handler needs. */
export type HttpDeps = { call(method: string, params: unknown): Outcome; faults: Faults; stats: { requests: number; calls: number } };

const enc = (s: string): Buffer => Buffer.from(s);
const HEAD = enc('{"jsonrpc":"2.0","result":');
const ERR_HEAD = enc('{"jsonrpc":"2.0","error":');

/** Builds the node:http request listener. */
export function createHttpHandler(deps: HttpDeps) {
  const answer = (req: unknown): Buffer[] | null => {
    if (typeof req !== "object" || req === null || Array.isArray(req)) {
      return [ERR_HEAD, enc('{"code":-32600,"message":"Invalid request"},"id":null}')];
    }
    const r = req as { jsonrpc?: unknown; method?: unknown; params?: unknown; id?: unknown };
    const hasId = "id" in r;
    const id = hasId && (typeof r.id === "string" || typeof r.id === "number" || r.id === null) ? r.id : null;
    if (r.jsonrpc !== "2.0" || typeof r.method !== "string") {
      return [ERR_HEAD, enc(`{"code":-32600,"message":"Invalid request"},"id":${JSON.stringify(id)}}`)];
    }
    deps.stats.calls++;
    const out = deps.call(r.method, r.params);
    if (!hasId) return null; // a notification gets no response
    const tail = enc(`,"id":${JSON.stringify(id)}}`);
    if ("error" in out) return [ERR_HEAD, enc(JSON.stringify(out.error)), tail];
    const body = typeof out.result === "string" ? enc(out.result) : out.result;
    return [HEAD, body, tail];
  };

  const send = (res: ServerResponse, status: number, chunks: Buffer[], type = "application/json; charset=utf-8"): void => {
    let len = 0;
    for (const c of chunks) len += c.length;
    res.writeHead(status, { "content-type": type, "content-length": len });
    res.cork();
    for (const c of chunks) res.write(c);
    res.end();
    res.uncork();
  };

  return function handle(req: IncomingMessage, res: ServerResponse): void {
    deps.stats.requests++;
    if (req.method === "GET" && (req.url === "/health" || req.url?.startsWith("/health?"))) {
      send(res, 200, [enc("ok")], "text/plain");
      return;
    }
    if (req.method !== "POST") {
      send(res, 405, [enc("Used HTTP Method is not allowed. POST or OPTIONS is required")], "text/plain");
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let aborted = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY && !aborted) {
        aborted = true;
        send(res, 413, [enc("Payload Too Large")], "text/plain");
        req.resume();
        return;
      }
      if (!aborted) chunks.push(c);
    });
    req.on("end", () => {
      if (aborted) return;
      if (deps.faults.http429()) {
        res.setHeader("retry-after", "1");
        send(res, 429, [enc('{"jsonrpc":"2.0","error":{"code":429,"message":"Too many requests for a specific RPC call"},"id":null}')]);
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        send(res, 200, [ERR_HEAD, enc('{"code":-32700,"message":"Parse error"},"id":null}')]);
        return;
      }
      if (Array.isArray(body)) {
        if (body.length === 0) {
          send(res, 200, [ERR_HEAD, enc('{"code":-32600,"message":"Invalid request"},"id":null}')]);
          return;
        }
        // Batch answers in request order: web3.js maps response i to request i.
        const out: Buffer[] = [enc("[")];
        let first = true;
        for (const r of body) {
          const a = answer(r);
          if (!a) continue;
          if (!first) out.push(enc(","));
          first = false;
          out.push(...a);
        }
        out.push(enc("]"));
        send(res, 200, out);
        return;
      }
      const a = answer(body);
      if (a) send(res, 200, a);
      else send(res, 200, []);
    });
  };
}
