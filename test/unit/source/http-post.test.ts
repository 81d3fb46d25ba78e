/** The RPC client's HTTP transport: compressed answers, bodies cut short, and the whole-exchange timeout. */
import { createServer, type Server } from "node:http";
import { gzipSync, brotliCompressSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createHttpPost } from "../../../indexer/source/http-post.js";

describe("createHttpPost", () => {
  let server: Server;
  let url: string;
  const answer = JSON.stringify({ jsonrpc: "2.0", id: 1, result: { log: "Program log: 🐠", n: 1 } });

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        if (req.url === "/gzip") return res.writeHead(200, { "content-encoding": "gzip" }).end(gzipSync(answer));
        if (req.url === "/br") return res.writeHead(200, { "content-encoding": "br" }).end(brotliCompressSync(answer));
        if (req.url === "/echo") return res.writeHead(200, { "x-seen-encoding": String(req.headers["accept-encoding"]) }).end(body);
        if (req.url === "/cut") {
          res.writeHead(200, { "content-length": String(answer.length + 100) });
          res.write(answer);
          return setTimeout(() => res.destroy(), 20);
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

  test("status and headers come through", async () => {
    const http = createHttpPost(`${url}/other`, 2);
    const r = await http.post("{}", 5_000);
    expect(r.status).toBe(429);
    expect(r.header("retry-after")).toBe("2");
    http.close();
  });
});
