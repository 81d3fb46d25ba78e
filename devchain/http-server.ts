/**
 * The HTTP JSON-RPC front: body limits, single and batch requests (answered in request order),
 * GET /health, the 429 fault, scripted faults (faults.ts `rules`) and the request log.
 * @dev Results arrive as pre-serialized text or bytes and are written around a fixed envelope;
 * nothing large is re-serialized per request.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import zlib from "node:zlib";
import type { FaultAction, Faults, MutateWhat } from "./faults.js";
import type { Outcome } from "./rpc-methods.js";

const MAX_BODY = 50 * 1024;

/** What the handler needs. */
export type HttpDeps = {
  call(method: string, params: unknown): Outcome;
  faults: Faults;
  stats: { requests: number; calls: number };
};

const enc = (s: string): Buffer => Buffer.from(s);
const HEAD = enc('{"jsonrpc":"2.0","result":');
const ERR_HEAD = enc('{"jsonrpc":"2.0","error":');

const HTML_502 =
  "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/** A getBlock result with one protocol violation (the fault suite's malformed answers). */
function mutate(result: string | Buffer[], what: MutateWhat): string {
  const b = JSON.parse(typeof result === "string" ? result : Buffer.concat(result).toString());
  if (b === null || typeof b !== "object") return JSON.stringify(b);
  if (what === "dupTx" && b.transactions?.length) b.transactions.push(b.transactions[0]);
  if (what === "metaNull") for (const tx of b.transactions ?? []) tx.meta = null;
  if (what === "noBlockhash") delete b.blockhash;
  if (what === "noParentSlot") delete b.parentSlot;
  if (what === "numbersAsStrings") {
    for (const k of ["parentSlot", "blockTime", "blockHeight"]) if (typeof b[k] === "number") b[k] = String(b[k]);
    for (const tx of b.transactions ?? []) {
      if (!tx.meta) continue;
      tx.meta.fee = String(tx.meta.fee);
      tx.meta.preBalances = tx.meta.preBalances.map(String);
      tx.meta.postBalances = tx.meta.postBalances.map(String);
    }
  }
  return JSON.stringify(b);
}

/** The gzip bomb's bodies by inflated size (MiB), built once. */
const bombs = new Map<number, Buffer>();
/**
 * A gzip body that inflates to `mb` MiB of zeros: one member of 1 MiB (about 1 KB compressed) repeated, as gzip
 * allows members to be concatenated, so building it never holds the inflated bytes.
 */
function gzipBomb(mb: number): Buffer {
  let body = bombs.get(mb);
  if (!body) {
    const member = zlib.gzipSync(Buffer.alloc(1 << 20), { level: 9 });
    body = Buffer.concat(Array.from({ length: mb }, () => member));
    bombs.set(mb, body);
  }
  return body;
}

/** Builds the node:http request listener. */
export function createHttpHandler(deps: HttpDeps) {
  /** The answer's chunks (null for a notification) and its JSON-RPC error code, if any. */
  const answer = (req: unknown): { chunks: Buffer[] | null; code?: number } => {
    if (typeof req !== "object" || req === null || Array.isArray(req)) {
      return { chunks: [ERR_HEAD, enc('{"code":-32600,"message":"Invalid request"},"id":null}')], code: -32600 };
    }
    const r = req as { jsonrpc?: unknown; method?: unknown; params?: unknown; id?: unknown };
    const hasId = "id" in r;
    const id = hasId && (typeof r.id === "string" || typeof r.id === "number" || r.id === null) ? r.id : null;
    if (r.jsonrpc !== "2.0" || typeof r.method !== "string") {
      return {
        chunks: [ERR_HEAD, enc(`{"code":-32600,"message":"Invalid request"},"id":${JSON.stringify(id)}}`)],
        code: -32600,
      };
    }
    deps.stats.calls++;
    const fault = deps.faults.rule(r.method, r.params, "call");
    let out: Outcome;
    if (fault?.kind === "error")
      out = { error: { code: fault.code, message: fault.message ?? `injected error ${fault.code}` } };
    else out = deps.call(r.method, r.params);
    if (fault?.kind === "mutate" && "result" in out) out = { result: mutate(out.result, fault.what) };
    if (!hasId) return { chunks: null }; // a notification gets no response
    const tail = enc(`,"id":${JSON.stringify(id)}}`);
    if ("error" in out) return { chunks: [ERR_HEAD, enc(JSON.stringify(out.error)), tail], code: out.error.code };
    const result = out.result;
    return { chunks: typeof result === "string" ? [HEAD, enc(result), tail] : [HEAD, ...result, tail] };
  };

  const send = (
    res: ServerResponse,
    status: number,
    chunks: Buffer[],
    type = "application/json; charset=utf-8",
  ): void => {
    let len = 0;
    for (const c of chunks) len += c.length;
    res.writeHead(status, { "content-type": type, "content-length": len });
    res.cork();
    for (const c of chunks) res.write(c);
    res.end();
    res.uncork();
  };

  const tooMany = (res: ServerResponse, retryAfter: number, log: (status: number) => void): void => {
    log(429);
    res.setHeader("retry-after", String(retryAfter));
    send(res, 429, [
      enc('{"jsonrpc":"2.0","error":{"code":429,"message":"Too many requests for a specific RPC call"},"id":null}'),
    ]);
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
      const arrived = Date.now();
      const request = deps.stats.requests;
      let body: unknown;
      let parsed = true;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        parsed = false;
      }
      const calls = (parsed ? (Array.isArray(body) ? body : [body]) : [])
        .filter(
          (c): c is { method: string; params?: unknown } =>
            typeof c === "object" && c !== null && typeof (c as { method?: unknown }).method === "string",
        )
        .map((c) => ({ method: c.method, params: c.params }));
      // Logged on arrival (status 0 until answered): a request whose answer is delayed or never read still shows.
      const logged = calls.map((c) => ({
        request,
        t: arrived,
        sentAt: 0,
        method: c.method,
        params: c.params,
        status: 0,
        code: undefined as number | undefined,
        batch: calls.length,
      }));
      deps.faults.spec.log?.entries.push(...logged);
      const log = (status: number, codes: (number | undefined)[] = []): void => {
        const sentAt = Date.now();
        logged.forEach((e, i) => Object.assign(e, { sentAt, status, code: codes[i] }));
      };

      if (deps.faults.http429()) return tooMany(res, deps.faults.spec.retryAfter, log);
      let fault: FaultAction | undefined;
      for (const c of calls) if ((fault = deps.faults.rule(c.method, c.params, "http"))) break;
      if (fault?.kind === "status") {
        if (fault.status === 429) return tooMany(res, fault.retryAfter ?? 1, log);
        log(fault.status);
        send(res, fault.status, [
          enc(`{"jsonrpc":"2.0","error":{"code":${fault.status},"message":"injected HTTP ${fault.status}"},"id":null}`),
        ]);
        return;
      }
      if (fault?.kind === "html502") {
        log(502);
        send(res, 502, [enc(HTML_502)], "text/html");
        return;
      }
      if (fault?.kind === "hugeLength") {
        // Past 4 GiB: a client that reads the length into 32 bits, or allocates it up front, breaks here.
        log(200);
        res.writeHead(200, {
          "content-type": "application/json; charset=utf-8",
          "content-length": String(5 * 2 ** 30),
        });
        res.write('{"jsonrpc":"2.0","result":{', () => res.destroy());
        return;
      }
      if (fault?.kind === "gzipBomb") {
        log(200);
        const body = gzipBomb(fault.mb ?? 300);
        res.writeHead(200, {
          "content-type": "application/json; charset=utf-8",
          "content-encoding": "gzip",
          "content-length": body.length,
        });
        res.end(body);
        return;
      }

      let out: Buffer[];
      const codes: (number | undefined)[] = [];
      if (!parsed) {
        out = [ERR_HEAD, enc('{"code":-32700,"message":"Parse error"},"id":null}')];
      } else if (Array.isArray(body)) {
        if (body.length === 0) {
          out = [ERR_HEAD, enc('{"code":-32600,"message":"Invalid request"},"id":null}')];
        } else {
          // Batch answers in request order: web3.js maps response i to request i.
          out = [enc("[")];
          let first = true;
          for (const r of body) {
            const a = answer(r);
            codes.push(a.code);
            if (!a.chunks) continue;
            if (!first) out.push(enc(","));
            first = false;
            out.push(...a.chunks);
          }
          out.push(enc("]"));
        }
      } else {
        const a = answer(body);
        codes.push(a.code);
        out = a.chunks ?? [];
      }
      if (fault?.kind === "truncate") {
        // The full length is announced, half the body is written, then the connection is cut.
        const all = Buffer.concat(out);
        log(200, codes);
        res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": all.length });
        res.write(all.subarray(0, Math.floor(all.length / 2)), () => res.destroy());
        return;
      }
      const finish = () => {
        log(200, codes);
        send(res, 200, out);
      };
      if (fault?.kind === "delay") setTimeout(finish, fault.ms);
      else finish();
    });
  };
}
