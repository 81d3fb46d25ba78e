/** The RPC client's HTTP transport: compressed answers, bodies cut short, and the whole-exchange timeout. */
import { createServer, type Server } from "node:http";
import { gzipSync, brotliCompressSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { AnswerTooLargeError, createHttpPost } from "../../../indexer/source/http-post.js";

describe("createHttpPost", () => {
  let server: Server;
  let url: string;
  const answer = JSON.stringify({ jsonrpc: "2.0", id: 1, result: { log: "Program log: 🐠", n: 1 } });
  /** A large answer (above POOLED_MIN_BYTES) whose bytes differ on every request. */
  let served = 0;
  const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 32), { level: 9 });
  const large = () => Buffer.alloc(3 * 1024 * 1024 + 17, String.fromCharCode(97 + (served++ % 26)));

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        if (req.url === "/gzip") return res.writeHead(200, { "content-encoding": "gzip" }).end(gzipSync(answer));
        if (req.url === "/br") return res.writeHead(200, { "content-encoding": "br" }).end(brotliCompressSync(answer));
        if (req.url === "/echo")
          return res.writeHead(200, { "x-seen-encoding": String(req.headers["accept-encoding"]) }).end(body);
        if (req.url === "/cut") {
          res.writeHead(200, { "content-length": String(answer.length + 100) });
          res.write(answer);
          return setTimeout(() => res.destroy(), 20);
        }
        if (req.url === "/large") {
          const b = large();
          res.writeHead(200, { "content-length": String(b.length) });
          if (body !== "cut") return res.end(b);
          res.write(b.subarray(0, 2 * 1024 * 1024));
          return setTimeout(() => res.destroy(), 20);
        }
        if (req.url === "/huge-length") {
          // a 5 GB Content-Length, above what one Buffer may hold: acquiring it threw out of the response listener
          res.writeHead(200, { "content-length": "5000000000" });
          return res.write(answer);
        }
        if (req.url === "/endless") {
          res.writeHead(200, { "transfer-encoding": "chunked" });
          const chunk = Buffer.alloc(64 * 1024, 32);
          const pump = () => {
            while (res.write(chunk)) if (res.destroyed) return;
            res.once("drain", pump);
          };
          res.on("close", () => res.removeAllListeners("drain"));
          return pump();
        }
        if (req.url === "/gzip-bomb") {
          // 64 MiB of spaces in about 64 KB: under the byte cap, far over it once inflated
          return res.writeHead(200, { "content-encoding": "gzip" }).end(bomb);
        }
        if (req.url === "/slow-body") {
          res.writeHead(200, { "content-length": String(answer.length) });
          res.write(answer.slice(0, 5));
          return setTimeout(() => res.end(answer.slice(5)), 500);
        }
        res.writeHead(429, { "retry-after": "2" }).end("");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  test("an answer over the cap fails its request, by Content-Length, by bytes received, or inflated", async () => {
    const cap = 4 * 1024 * 1024;
    for (const [path, what] of [
      ["/huge-length", /Content-Length 5000000000 over the cap/],
      ["/endless", /bytes received over the cap/],
      ["/gzip-bomb", /gzip answer inflated over the cap/],
    ] as const) {
      const http = createHttpPost(url + path, 2, cap);
      const err = await http.post("{}", 10_000).then(
        () => null,
        (e: Error) => e,
      );
      expect(err, path).toBeInstanceOf(AnswerTooLargeError);
      expect(err!.message, path).toMatch(what);
      http.close();
    }
    expect(bomb.length).toBeLessThan(cap);
    // under the default cap the same bomb inflates: the cap, not zlib, refused it
    const http = createHttpPost(`${url}/gzip-bomb`, 2);
    expect((await http.post("{}", 10_000)).body.length).toBe(64 * 1024 * 1024);
    http.close();
  });

  test("gzip and brotli answers are inflated; the request asks for them", async () => {
    for (const path of ["/gzip", "/br"]) {
      const http = createHttpPost(url + path, 2);
      const r = await http.post("{}", 5_000);
      expect(r.status).toBe(200);
      expect(r.body.toString("utf8")).toBe(answer);
      http.close();
    }
    const echo = createHttpPost(`${url}/echo`, 2);
    const r = await echo.post('{"a":1}', 5_000);
    expect(r.body.toString()).toBe('{"a":1}');
    expect(r.header("x-seen-encoding")).toContain("gzip");
    echo.close();
  });

  test("a body cut short is an error, not a short answer", async () => {
    const http = createHttpPost(`${url}/cut`, 2);
    await expect(http.post("{}", 5_000)).rejects.toThrow();
    http.close();
  });

  test("the timeout covers the body, and says TimeoutError", async () => {
    const http = createHttpPost(`${url}/slow-body`, 2);
    await expect(http.post("{}", 200)).rejects.toMatchObject({ name: "TimeoutError" });
    http.close();
  });

  test("a large answer's buffer is reused only once it is released, and a failed exchange gives its buffer back", async () => {
    const http = createHttpPost(`${url}/large`, 2);
    const a = await http.post("{}", 5_000);
    const b = await http.post("{}", 5_000);
    // Both held: two buffers, each with its own answer's bytes.
    expect(b.body.buffer).not.toBe(a.body.buffer);
    const [ca, cb] = [a.body[0], b.body[0]];
    expect(ca).not.toBe(cb);
    expect(a.body.length).toBe(3 * 1024 * 1024 + 17);
    expect(a.body.every((x) => x === ca)).toBe(true);
    expect(b.body.every((x) => x === cb)).toBe(true);
    a.release();
    a.release(); // idempotent: the buffer is not pooled twice
    const c = await http.post("{}", 5_000);
    expect(c.body.buffer).toBe(a.body.buffer);
    expect(c.body.every((x) => x === c.body[0]) && c.body[0] !== cb).toBe(true);
    const d = await http.post("{}", 5_000);
    expect(d.body.buffer).not.toBe(c.body.buffer);
    http.close();

    const http2 = createHttpPost(`${url}/large`, 2);
    const w = await http2.post("{}", 5_000);
    w.release();
    // The cut exchange is received into w's buffer, fails, and gives it back: the next answer lands in it again.
    await expect(http2.post("cut", 5_000)).rejects.toThrow(/cut short/);
    const e = await http2.post("{}", 5_000);
    expect(e.body.buffer).toBe(w.body.buffer);
    http2.close();
  });

  test("status and headers come through", async () => {
    const http = createHttpPost(`${url}/other`, 2);
    const r = await http.post("{}", 5_000);
    expect(r.status).toBe(429);
    expect(r.header("retry-after")).toBe("2");
    http.close();
  });
});
