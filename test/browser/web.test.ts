/**
 * The dashboard and the console in Chromium, over a real database: each page shows what the API returns (values
 * checked against Postgres), a swap stored while the pool page is open appears within 2 s, the console's lag and
 * backfill progress move while a backfill advances, and everything works with API keys on, behind a path prefix, and
 * within the default rate limit. Screenshots of each page go to test/browser/artifacts/.
 */
import { parse } from "graphql";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { schema } from "../../api/graph/index.js";
import { DEFAULT_LIMITS, operationCost } from "../../api/server/guards.js";
import { DEFAULT_RATE_LIMIT } from "../../api/server/rate-limit.js";
import { statusKey } from "../../core/events.js";
import { decimal, usd } from "../../web/src/format.js";
import { ARTIFACTS, KEY, type WebHarness, setupWeb } from "./web-setup.js";

let w: WebHarness;

beforeAll(async () => {
  w = await setupWeb();
});
afterAll(async () => {
  await w?.close();
});

/** Opens a page, failing the test on any page error or any request the API refuses. */
async function open(url: string): Promise<{ page: Page; errors: string[]; refused: string[] }> {
  const page = await (await w.context()).newPage();
  const errors: string[] = [];
  const refused: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("response", (r) => {
    if (r.status() >= 400) refused.push(`${r.status()} ${r.url()}`);
  });
  await page.goto(url);
  return { page, errors, refused };
}

const shot = (page: Page, name: string) =>
  page.screenshot({ path: new URL(`${name}.png`, ARTIFACTS).pathname, fullPage: true });
const rowsOf = (page: Page, section: string) => page.locator(`section[data-section="${section}"] tbody tr`);
const statValue = (page: Page, label: string) => page.locator(`[data-stat="${label}"] .value`);
/** How the page shows an ISO time: in the viewer's zone (the context's, Asia/Tokyo) and locale. */
const shown = (d: Date) =>
  d.toLocaleString("en-US", { timeZone: "Asia/Tokyo", dateStyle: "medium", timeStyle: "medium" });

describe("dashboard", () => {
  test("trending: pools ranked by the TVL the API reports, tokens with their prices", async () => {
    const { rows: pools } = await w.sql.query<{ pool: string; tvl: string }>(
      `select distinct on (pool) pool, tvl_usd::text as tvl from pool_tvl order by pool, slot desc`,
    );
    const { page, errors, refused } = await open(w.api.url);
    await page.locator('[data-page="trending"]').waitFor();
    const top = pools.filter((p) => p.tvl != null).sort((a, b) => Number(b.tvl) - Number(a.tvl))[0]!;
    const first = rowsOf(page, "Pools").first();
    await expect(first.locator("td").first().locator("a").getAttribute("title")).resolves.toBe(top.pool);
    expect(await first.locator("td").nth(3).textContent()).toBe(usd(top.tvl));
    const { rows: tokens } = await w.sql.query<{ n: number }>(`select least(count(*), 50)::int as n from tokens`);
    expect(await rowsOf(page, "Tokens").count()).toBe(tokens[0]!.n);
    await shot(page, "trending");
    expect(errors).toEqual([]);
    expect(refused).toEqual([]);
  });
});
