/**
 * The dashboard's static route: the page at / and /console, the build's assets, and nothing else (no path from a
 * request reaches the file system); with API keys on, the page loads and GraphQL still refuses a request without one.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { describe, expect, test } from "vitest";
import { createYoga, createSchema } from "graphql-yoga";
import { createApi } from "../../../api/server/index.js";
import { findWebRoot, useWebApp } from "../../../api/server/web-plugin.js";
import { createLogger } from "../../../core/logger.js";

function builtApp(): string {
  const root = mkdtempSync(path.join(tmpdir(), "slotline-web-"));
  mkdirSync(path.join(root, "assets"));
  writeFileSync(path.join(root, "index.html"), "<!doctype html><title>app</title>");
  writeFileSync(path.join(root, "assets", "index-abc123.js"), "console.log(1)");
  writeFileSync(path.join(root, "assets", "notes.txt"), "not served: no known type");
  writeFileSync(path.join(root, "secret.json"), "{}");
  return `${root}/`;
}

const yoga = (root: string | null) =>
  createYoga({ schema: createSchema({ typeDefs: "type Query { x: Int }" }), plugins: [useWebApp(root)] });

describe("web plugin", () => {
  test("serves the page at /, /index.html and /console, and the assets, with their types and caching", async () => {
    const y = yoga(builtApp());
    for (const p of ["/", "/index.html", "/console"]) {
      const r = await y.fetch(`http://test${p}`);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(r.headers.get("cache-control")).toBe("no-cache");
      expect(r.headers.get("content-security-policy")).toContain("connect-src 'self'");
      expect(await r.text()).toContain("<title>app</title>");
    }
    const js = await y.fetch("http://test/assets/index-abc123.js");
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(js.headers.get("cache-control")).toContain("immutable");
    expect(await js.text()).toBe("console.log(1)");
  });

  test("anything else is not its business: unknown files, other types, traversal, POST", async () => {
    const y = yoga(builtApp());
    for (const p of [
      "/secret.json",
      "/assets/notes.txt",
      "/assets/../secret.json",
      "/assets/%2e%2e/secret.json",
      "/console/x",
    ])
      expect((await y.fetch(`http://test${p}`)).status, p).toBe(404);
    expect((await y.fetch("http://test/", { method: "POST" })).status).toBe(404);
  });

  test("an unbuilt app serves no page, and the sources' web/ is never taken for the build", async () => {
    expect((await yoga(null).fetch("http://test/")).status).toBe(404);
    // from api/server the candidates are dist/web (the build) and web/ (the sources, which have no assets/)
    const root = findWebRoot(new URL("../../../api/server/web-plugin.ts", import.meta.url).href);
    if (root) expect(root.endsWith(`${path.sep}dist${path.sep}web${path.sep}`)).toBe(true);
  });

  test("with API_KEYS the page loads without a key, GraphQL does not", async () => {
    const pool = new pg.Pool({ connectionString: "postgres://nobody@127.0.0.1:1/none" });
    const api = createApi({
      config: { QUEUE_PREFIX: "web-plugin-test", API_KEYS: ["k-0123456789"] },
      logger: createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" }),
      pool,
    });
    try {
      const page = await api.fetch("http://test/");
      if (findWebRoot()) expect(page.status).toBe(200);
      const gql = await api.fetch("http://test/graphql", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ indexerStatus { latestSlot } }" }),
      });
      expect(gql.status).toBe(401);
    } finally {
      await pool.end();
    }
  });
});
