/**
 * GraphiQL renders in a browser that can reach nothing but the API on 127.0.0.1: the page carries its own scripts,
 * styles and editor workers (no CDN), loads the schema and lists the root fields.
 */
import http from "node:http";
import pg from "pg";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createApi } from "../../api/server/index.js";
import { createLogger } from "../../core/logger.js";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
];

describe("GraphiQL", () => {
  let browser: Browser;
  let server: http.Server;
  let base: string;
  // never connected: the page and the introspection query read no table
  const pool = new pg.Pool({ connectionString: "postgres://nobody@127.0.0.1:1/none" });

  beforeAll(async () => {
    const api = createApi({
      config: { QUEUE_PREFIX: "graphiql-test" },
      logger: createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" }),
      pool,
    });
    server = http.createServer(api);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    server?.close();
    await pool.end();
  });

  test("renders offline from the installed package, loads the schema, and asks no other host for anything", async () => {
    const page = await browser.newPage();
    const blocked: string[] = [];
    // "offline" for real: every request that is not for the API on 127.0.0.1 fails
    await page.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === "127.0.0.1" || url.protocol === "blob:" || url.protocol === "data:") return route.continue();
      blocked.push(url.toString());
      return route.abort("internetdisconnected");
    });
    const pageErrors: string[] = [];
    page.on("pageerror", (err) => pageErrors.push(err.message));
    const introspection = page.waitForResponse(
      (res) => res.url() === `${base}/graphql` && (res.request().postData() ?? "").includes("__schema"),
    );

    const res = await page.goto(`${base}/graphql`);
    expect(res?.status()).toBe(200);
    expect((await introspection).status()).toBe(200);
    // GraphiQL's own UI, not yoga's "Loading Yoga GraphiQL..." placeholder that stays when the CDN is out of reach
    await page.locator(".graphiql-container").first().waitFor({ state: "visible", timeout: 30_000 });
    await page.locator(".graphiql-query-editor").first().waitFor({ state: "visible" });
    // the schema is there: the documentation explorer lists a root field of ours
    await page.getByRole("button", { name: /documentation explorer/i }).click();
    await page.getByText("Query", { exact: true }).first().click();
    await page.getByText("pools", { exact: true }).first().waitFor({ state: "visible" });

    expect(blocked).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
