/**
 * The dashboard and the console in Chromium, over a real database: each page shows what the API returns (values
 * checked against Postgres), a swap stored while the pool page is open appears within 2 s, the console's lag and
 * backfill progress move while a backfill advances, and everything works with API keys on, behind a path prefix, and
 * within the default rate limit. Screenshots of each page go to test/browser/artifacts/.
 */
import { parse } from "graphql";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, onTestFinished, test } from "vitest";
import { schema } from "../../api/graph/index.js";
import { DEFAULT_LIMITS, operationCost } from "../../api/server/guards.js";
import { DEFAULT_RATE_LIMIT } from "../../api/server/rate-limit.js";
import { eventsChannel, statusKey } from "../../core/events.js";
import { endpointsOf } from "../../indexer/ingest/index.js";
import { createBlockWorker, toEvent } from "../../indexer/pipeline/index.js";
import { createDecoder } from "../../indexer/decode/index.js";
import { parseConfig } from "../../core/config.js";
import { createLogger } from "../../core/logger.js";
import { createMetrics } from "../../core/metrics.js";
import { createRpcPool } from "../../indexer/source/index.js";
import { add, applyDecimals, decimal, pct, usd } from "../../web/src/format.js";
import { ALL, CONSOLE_POLL_MS as POLL_MS, WALLET_PNL } from "../../web/src/queries.js";
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
/** A table's rows as the viewer reads them: each cell's text, or for a link its target (the full address). */
const cellsOf = (page: Page, section: string) =>
  page.$$eval(`section[data-section="${section}"] tbody tr`, (rows) =>
    rows.map((r) =>
      [...r.querySelectorAll("td")].map((td) => td.querySelector("a[title]")?.getAttribute("title") ?? td.textContent),
    ),
  );
/** What the API answers (the API without a rate limit), as a test's own query. */
async function apiQuery<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(`${w.api.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  return body.data!;
}
/** The top 50 of a ranking's newest generation, as the pricing stage stored it. */
async function storedRanking(kind: "token" | "pool", ordering: string): Promise<string[]> {
  const { rows } = await w.sql.query<{ entity: string }>(
    `select entity from market_rankings where kind = $1 and ordering = $2
       and generation = (select max(generation) from market_rankings where kind = $1)
     order by rank limit 50`,
    [kind, ordering],
  );
  return rows.map((r) => r.entity);
}
/** How the page shows an ISO time: in the viewer's zone (the context's, Asia/Tokyo) and locale. */
const shown = (d: Date) =>
  d.toLocaleString("en-US", { timeZone: "Asia/Tokyo", dateStyle: "medium", timeStyle: "medium" });

describe("dashboard", () => {
  test("trending: the API's rankings of tokens (24 h volume) and pools, each row with the figures the API returns", async () => {
    // the test's own query, not the page's document: what the API answers for the rankings
    type Ranked = {
      tokens: { edges: { node: { mint: string; name: string | null; market: any } }[] };
      pools: {
        edges: { node: { address: string; dex: string; price: string | null; tvlUsd: string | null; market: any } }[];
      };
    };
    const ranked = (tokens: string, pools: string) =>
      apiQuery<Ranked>(
        `query ($t: TokenRanking!, $p: PoolRanking!) {
          tokens(ranking: $t, first: 50) { edges { node { mint name
            market { priceUsd marketCapUsd liquidityUsd holders h24 { volumeUsd trades priceChangePct } } } } }
          pools(ranking: $p, first: 50) { edges { node { address dex price tvlUsd market { h24 { volumeUsd trades uniqueTraders } } } } }
        }`,
        { t: tokens, p: pools },
      );
    const api = await ranked("VOLUME_24H_DESC", "VOLUME_24H_DESC");
    const tokens = api.tokens.edges.map((e) => e.node);
    const pools = api.pools.edges.map((e) => e.node);
    // the rankings the pricing stage stored (the page shows the API's order, which is this one)
    expect(tokens.map((t) => t.mint)).toEqual(await storedRanking("token", "VOLUME_24H_DESC"));
    expect(pools.map((p) => p.address)).toEqual(await storedRanking("pool", "VOLUME_24H_DESC"));
    // a ranking of real figures: a full page, most with a 24 h volume
    expect(tokens).toHaveLength(50);
    expect(tokens.filter((t) => t.market.h24.volumeUsd !== "0").length).toBeGreaterThan(25);

    const { page, errors, refused } = await open(w.api.url);
    await page.locator('[data-page="trending"]').waitFor();
    expect(await cellsOf(page, "Tokens")).toEqual(
      tokens.map((t, i) => {
        const m = t.market;
        return [
          String(i + 1),
          t.mint,
          t.name ?? "–",
          usd(m.priceUsd),
          pct(m.h24.priceChangePct),
          usd(m.h24.volumeUsd),
          String(m.h24.trades),
          usd(m.liquidityUsd),
          usd(m.marketCapUsd),
          String(m.holders),
        ];
      }),
    );
    expect(await cellsOf(page, "Pools")).toEqual(
      pools.map((p, i) => [
        String(i + 1),
        p.address,
        p.dex,
        decimal(p.price, 8),
        usd(p.tvlUsd),
        usd(p.market.h24.volumeUsd),
        String(p.market.h24.trades),
        String(p.market.h24.uniqueTraders),
      ]),
    );
    await shot(page, "trending");

    // the switches ask for another ranking: tokens by holders, pools by TVL
    await page.locator('[data-section="Tokens"] [data-ranking="HOLDERS_DESC"]').click();
    await page.locator('[data-section="Tokens"] [data-ranking="HOLDERS_DESC"].active').waitFor();
    await page.locator('[data-section="Pools"] [data-ranking="TVL_DESC"]').click();
    await page.locator('[data-section="Pools"] [data-ranking="TVL_DESC"].active').waitFor();
    const other = await ranked("HOLDERS_DESC", "TVL_DESC");
    expect(other.tokens.edges.map((e) => e.node.mint)).toEqual(await storedRanking("token", "HOLDERS_DESC"));
    expect(other.pools.edges.map((e) => e.node.address)).toEqual(await storedRanking("pool", "TVL_DESC"));
    expect((await cellsOf(page, "Tokens")).map((r) => [r[1], r.at(-1)])).toEqual(
      other.tokens.edges.map((e) => [e.node.mint, String(e.node.market.holders)]),
    );
    expect((await cellsOf(page, "Pools")).map((r) => [r[1], r[4]])).toEqual(
      other.pools.edges.map((e) => [e.node.address, usd(e.node.tvlUsd)]),
    );
    expect(new URL(page.url()).hash).toBe("#/?tokens=HOLDERS_DESC&pools=TVL_DESC");
    expect(errors).toEqual([]);
    expect(refused).toEqual([]);
  });

  test("token: figures, largest holder, pools and latest transfers as stored, times in the viewer's zone", async () => {
    const {
      rows: [t],
    } = await w.sql.query<{ mint: string; holders: number }>(
      `select mint, holder_count as holders from tokens order by holder_count desc, mint limit 1`,
    );
    const {
      rows: [top],
    } = await w.sql.query<{ owner: string; amount: string }>(
      `select h.owner, h.amount::text from token_holders h where h.mint = $1 and h.amount > 0
       order by h.amount desc, h.owner collate "C" limit 1`,
      [t!.mint],
    );
    const {
      rows: [tr],
    } = await w.sql.query<{ n: number; newest: Date }>(
      `select least(count(*), 20)::int as n, max(block_time) as newest from token_transfers where mint = $1`,
      [t!.mint],
    );
    const {
      rows: [pools],
    } = await w.sql.query<{ n: number }>(
      `select least(count(*), 10)::int as n from pools where mint_a = $1 or mint_b = $1`,
      [t!.mint],
    );
    const { page, errors, refused } = await open(`${w.api.url}/#/token/${t!.mint}`);
    await page.locator('[data-page="token"]').waitFor();
    expect(await statValue(page, "Holders").textContent()).toBe(String(t!.holders));
    const holder = rowsOf(page, "Holders").first();
    expect(await holder.locator("a").first().getAttribute("title")).toBe(top!.owner);
    expect(await holder.locator(".amount").getAttribute("title")).toBe(`${top!.amount} (raw)`);
    expect(await rowsOf(page, "Pools").count()).toBe(pools!.n);
    expect(await rowsOf(page, "Latest transfers").count()).toBe(tr!.n);
    expect(await rowsOf(page, "Latest transfers").first().locator("time").textContent()).toBe(shown(tr!.newest));
    // SOL is priced by the pricing stage: its USD chart is drawn
    const {
      rows: [prices],
    } = await w.sql.query<{ n: number }>(`select count(*)::int as n from token_prices where mint = $1`, [t!.mint]);
    expect(prices!.n).toBeGreaterThan(0);
    await page.locator('section[data-section="Price (USD, 5 min)"] canvas').first().waitFor();
    await shot(page, "token");
    expect(errors).toEqual([]);
    expect(refused).toEqual([]);
  });

  test("pool: reserves, candles and swaps as stored; a swap stored while the page is open appears within 2 s", async () => {
    const {
      rows: [p],
    } = await w.sql.query<{ reserve_a: string; reserve_b: string; swaps: number }>(
      `select reserve_a::text, reserve_b::text, (select least(count(*), 25)::int from swaps where pool = $1) as swaps
       from pools where address = $1`,
      [w.held.pool],
    );
    const { page, errors, refused } = await open("about:blank");
    const live = page.waitForResponse((r) => r.request().headers().accept === "text/event-stream");
    await page.goto(`${w.api.url}/#/pool/${w.held.pool}`);
    await page.locator('[data-page="pool"]').waitFor();
    expect(await statValue(page, "Reserve A").locator(".amount").getAttribute("title")).toBe(`${p!.reserve_a} (raw)`);
    expect(await statValue(page, "Reserve B").locator(".amount").getAttribute("title")).toBe(`${p!.reserve_b} (raw)`);
    expect(await page.locator("table.swaps tbody tr").count()).toBe(p!.swaps);
    await page.locator(".chart canvas").first().waitFor();
    expect((await live).status()).toBe(200);

    const swap = w.held.block.transactions[0]!.swaps.find((s) => s.pool === w.held.pool)!;
    const row = page.locator(`tr[data-swap="${w.held.signature}/${swap.instructionPath}"]`);
    expect(await row.count()).toBe(0);
    const t0 = performance.now();
    await w.storeHeld();
    await row.waitFor({ timeout: 2_000 });
    const ms = performance.now() - t0;
    console.log(`pool page: stored swap shown after ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(2_000);
    expect(await row.locator(".amount").first().getAttribute("title")).toBe(`${swap.amountIn} (raw)`);
    expect(await page.locator("table.swaps tbody tr").first().getAttribute("data-swap")).toBe(
      `${w.held.signature}/${swap.instructionPath}`,
    );
    await page.waitForTimeout(2_100); // the new row's highlight fades
    await shot(page, "pool");
    // the README's picture: the first screen of the page
    await page.setViewportSize({ width: 1100, height: 760 });
    await page.screenshot({ path: new URL("pool-readme.png", ARTIFACTS).pathname });
    expect(errors).toEqual([]);
    expect(refused).toEqual([]);
  });

  test("wallet: holdings and trades of the busiest trader", async () => {
    const {
      rows: [x],
    } = await w.sql.query<{ trader: string; trades: number }>(
      `select trader, least(count(*), 25)::int as trades from trades group by trader order by count(*) desc, trader limit 1`,
    );
    const {
      rows: [held],
    } = await w.sql.query<{ n: number }>(
      `select least(count(*), 50)::int as n from token_holders where owner = $1 and amount > 0`,
      [x!.trader],
    );
    const { rows: sol } = await w.sql.query<{ lamports: string }>(
      `select lamports::text from wallets where address = $1`,
      [x!.trader],
    );
    const { page, errors, refused } = await open(`${w.api.url}/#/wallet/${x!.trader}`);
    await page.locator('[data-page="wallet"]').waitFor();
    expect(await rowsOf(page, "Trades").count()).toBe(x!.trades);
    expect(await rowsOf(page, "Portfolio").count()).toBe(held!.n);
    if (sol[0])
      expect(await statValue(page, "SOL").locator(".amount").getAttribute("title")).toBe(`${sol[0].lamports} (raw)`);
    await shot(page, "wallet");
    expect(errors).toEqual([]);
    expect(refused).toEqual([]);
  });

  test("wallet PnL: per token and in total as the API computes it, over the window the switch picks", async () => {
    // the busiest trader who bought and sold one token (average cost then realizes a PnL)
    const {
      rows: [x],
    } = await w.sql.query<{ trader: string }>(
      `select t.trader from trades t
       where exists (select 1 from trades u where u.trader = t.trader and u.sold_mint = t.bought_mint)
       group by t.trader order by count(*) desc, t.trader limit 1`,
    );
    type Pnl = {
      from: string | null;
      trades: number;
      realizedPnlUsd: string;
      unrealizedPnlUsd: string;
      tokens: {
        mint: string;
        token: { decimals: number | null } | null;
        trades: number;
        boughtAmount: string;
        soldAmount: string;
        boughtUsd: string;
        soldUsd: string;
        realizedPnlUsd: string;
        unrealizedPnlUsd: string | null;
        balance: string;
      }[];
    };
    const pnl = async (window: string) =>
      (
        await apiQuery<{ account: { pnl: Pnl } }>(
          `query ($a: String!, $w: PnlWindow!) { account(address: $a) { pnl(window: $w) {
            from trades realizedPnlUsd unrealizedPnlUsd
            tokens { mint token { decimals } trades boughtAmount soldAmount boughtUsd soldUsd realizedPnlUsd unrealizedPnlUsd balance }
          } } }`,
          { a: x!.trader, w: window },
        )
      ).account.pnl;
    const all = await pnl("ALL");
    const day = await pnl("D1");
    // the copy of the blocks a day before counts in the whole history only: the windows differ
    expect(day.trades).toBeLessThan(all.trades);
    expect(all.tokens.some((t) => t.realizedPnlUsd !== "0")).toBe(true);
    /** What the page shows for a PnL: the stats, then each token's row (cells as read), then the totals row. */
    const expected = (p: Pnl) => {
      const raw = (v: string, t: Pnl["tokens"][number]) => {
        const ui = applyDecimals(v, t.token?.decimals);
        return `${v} (raw)|${ui == null ? v : decimal(ui)}`;
      };
      const bought = add(p.tokens.map((t) => t.boughtUsd));
      const sold = add(p.tokens.map((t) => t.soldUsd));
      return {
        stats: [usd(p.realizedPnlUsd), usd(p.unrealizedPnlUsd), String(p.trades), usd(bought), usd(sold)],
        rows: p.tokens.map((t) => [
          t.mint,
          String(t.trades),
          raw(t.boughtAmount, t),
          raw(t.soldAmount, t),
          usd(t.boughtUsd),
          usd(t.soldUsd),
          usd(t.realizedPnlUsd),
          usd(t.unrealizedPnlUsd),
          raw(t.balance, t),
        ]),
        total: [
          "Total",
          String(p.trades),
          "",
          "",
          usd(bought),
          usd(sold),
          usd(p.realizedPnlUsd),
          usd(p.unrealizedPnlUsd),
        ],
      };
    };
    const shownPnl = (page: Page) =>
      page.$eval('section[data-section="PnL"]', (s) => ({
        stats: [...s.querySelectorAll(".stat .value")].map((v) => v.textContent),
        rows: [...s.querySelectorAll("tbody tr")].map((r) =>
          [...r.querySelectorAll("td")].slice(0, 9).map((td) => {
            const a = td.querySelector("a[title]");
            const amount = td.querySelector(".amount");
            return a
              ? a.getAttribute("title")
              : amount
                ? `${amount.getAttribute("title")}|${amount.textContent}`
                : td.textContent;
          }),
        ),
        total: [...s.querySelectorAll("tfoot td")].slice(0, 8).map((td) => td.textContent),
      }));

    const { page, errors, refused } = await open("about:blank");
    const sent: string[] = [];
    page.on("request", (r) => {
      if (r.method() === "POST" && r.url().endsWith("/graphql")) sent.push(JSON.parse(r.postData() ?? "{}").query);
    });
    await page.goto(`${w.api.url}/#/wallet/${x!.trader}`);
    await page.locator('section[data-section="PnL"][data-window="ALL"] table').waitFor();
    expect(await shownPnl(page)).toEqual(expected(all));
    await shot(page, "wallet-pnl");

    // the switch asks for the window's PnL alone, shows it, and keeps the window in the URL
    sent.length = 0;
    await page.getByRole("button", { name: "1 d" }).click();
    await page.locator('section[data-section="PnL"][data-window="D1"]:not([aria-busy])').waitFor();
    expect(await shownPnl(page)).toEqual(expected(day));
    expect(sent).toEqual([WALLET_PNL]);
    expect(new URL(page.url()).hash).toBe(`#/wallet/${x!.trader}?window=D1`);
    expect(await page.locator('section[data-section="PnL"] .hint').textContent()).toMatch(/^From /);

    // a link with a window opens on it
    const week = await pnl("D7");
    await page.goto("about:blank");
    await page.goto(`${w.api.url}/#/wallet/${x!.trader}?window=D7`);
    await page.locator('section[data-section="PnL"][data-window="D7"] table').waitFor();
    expect(await shownPnl(page)).toEqual(expected(week));
    expect(errors).toEqual([]);
    expect(refused).toEqual([]);
  });

  test("transaction: its swaps, transfers and program events", async () => {
    const {
      rows: [x],
    } = await w.sql.query<{ signature: string; swaps: number; transfers: number; events: number }>(
      `select t.signature,
         (select count(*)::int from swaps s where s.signature = t.signature) as swaps,
         (select count(*)::int from token_transfers s where s.signature = t.signature) as transfers,
         (select count(*)::int from program_events s where s.signature = t.signature) as events
       from transactions t order by 4 desc, 2 desc, t.signature limit 1`,
    );
    const { page, errors, refused } = await open(`${w.api.url}/#/tx/${x!.signature}`);
    await page.locator('[data-page="transaction"]').waitFor();
    expect(await rowsOf(page, "Swaps").count()).toBe(x!.swaps);
    expect(await rowsOf(page, "Transfers").count()).toBe(x!.transfers);
    expect(await rowsOf(page, "Events").count()).toBe(x!.events);
    await shot(page, "transaction");
    expect(errors).toEqual([]);
    expect(refused).toEqual([]);
  });

  test("search: a mint, a pool, a signature and a wallet each open their page", async () => {
    const {
      rows: [x],
    } = await w.sql.query<{ mint: string; pool: string; signature: string; trader: string }>(
      `select mint_in as mint, pool, signature, trader from swaps order by slot desc, signature limit 1`,
    );
    const { page, errors } = await open(w.api.url);
    await page.locator('[data-page="trending"]').waitFor();
    for (const [q, route, kind] of [
      [x!.mint, "token", "token"],
      [x!.pool, "pool", "pool"],
      [x!.signature, "tx", "transaction"],
      [x!.trader, "wallet", "wallet"],
    ] as const) {
      await page.getByRole("searchbox").fill(q);
      await page.getByRole("searchbox").press("Enter");
      await page.locator(`[data-page="${kind}"]`).waitFor();
      expect(new URL(page.url()).hash).toBe(`#/${route}/${q}`);
    }
    expect(errors).toEqual([]);
  });
});

describe("console", () => {
  test("lag and backfill progress move while a backfill advances; dead letters show their error", async () => {
    const {
      rows: [s],
    } = await w.sql.query<{ latest: number }>(`select max(slot)::int as latest from slots where status = 'indexed'`);
    const status = statusKey(w.prefix);
    let tip = s!.latest + 40;
    await w.redis.hset(status, { chainTip: String(tip), queueDepth: "7", updatedAt: String(Date.now()) });
    const id = "backfill-browsertest";
    const from = s!.latest - 10_000;
    await w.store.openBackfill(id, { slot: from, position: null, params: { kind: "slots" }, total: 10_000 });
    await w.store.recordDeadLetter({
      queue: "blocks",
      jobId: "slot-1",
      jobName: "index-slots",
      payload: { slots: [1] },
      error: "DecodeError: account index 9 out of range",
      attempts: 3,
    });
    // the ingest reports its pool's endpoints in the status hash (a fresh pool: both healthy, nothing asked yet)
    const rpc = createRpcPool({
      endpoints: [{ url: "http://127.0.0.1:9/rpc?api-key=secret" }, { url: "http://localhost:9/" }],
      maxRps: 10,
      concurrency: 1,
      batchSize: 1,
      timeoutMs: 1_000,
    });
    await w.redis.hset(status, { endpoints: endpointsOf(rpc)! });
    // a real block worker, idle on the deployment's queue, reports itself
    const worker = createBlockWorker(
      {
        config: parseConfig({ REDIS_URL: inject("redisUrl"), QUEUE_PREFIX: w.prefix }),
        logger: createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" }),
        db: w.writer,
      },
      {
        rpc,
        decoder: createDecoder({ programs: ["spl-token"] }),
        store: w.store,
        metrics: createMetrics(),
        redis: w.workerRedis,
        concurrency: 3,
      },
    );
    onTestFinished(() => worker.close());
    const { page, errors, refused } = await open(`${w.api.url}/console`);
    await page.locator('[data-page="console"]').waitFor();
    await expect(statValue(page, "Chain tip").textContent()).resolves.toBe(String(tip));
    await expect(statValue(page, "Queue depth").textContent()).resolves.toBe("7");
    expect(await page.locator('section[data-section="Dead letters (newest)"]').textContent()).toContain(
      "DecodeError: account index 9 out of range",
    );
    await expect(rowsOf(page, "Workers").first().textContent()).resolves.toMatch(/:\d+:[0-9a-f]{4}idle0 \/ 3/);
    const endpoints = rowsOf(page, "RPC endpoints");
    expect(await endpoints.count()).toBe(2);
    expect(await endpoints.first().textContent()).toMatch(/^1:127\.0\.0\.1.*healthy/);
    // the endpoint's path and query (where API keys live) never reach the page
    expect(await page.content()).not.toContain("secret");
    const progress = page.locator("[data-progress]").first();
    const lagValue = statValue(page, "Lag (slots)");
    const seen = { progress: [] as number[], lag: [] as number[] };
    // the backfill advances a chunk every 500 ms (its worker publishing the batch's event, as after any stored batch),
    // and the chain tip moves ahead of the stored slots
    let done = 0;
    const advance = setInterval(() => {
      done += 500;
      tip += 5;
      void (async () => {
        await w.store.backfillReachedSlot(id, from + done, done);
        await w.redis.hset(status, { chainTip: String(tip), updatedAt: String(Date.now()) });
        await w.redis.publish(eventsChannel(w.prefix), JSON.stringify(toEvent([], [from + done - 1])));
      })();
    }, 500);
    try {
      for (let i = 0; i < 4; i++) {
        await page.waitForTimeout(2_100);
        seen.progress.push(Number(await progress.getAttribute("data-progress")));
        seen.lag.push(Number(await lagValue.textContent()));
      }
    } finally {
      clearInterval(advance);
    }
    // each read further on than the one before
    for (let i = 1; i < 4; i++) {
      expect(seen.progress[i]).toBeGreaterThan(seen.progress[i - 1]!);
      expect(seen.lag[i]).toBeGreaterThan(seen.lag[i - 1]!);
    }
    const eta = await page.locator('section[data-section="Backfills"] tbody tr td').nth(5).textContent();
    expect(eta).toMatch(/^\d+ (s|min)/);
    // the live lag chart has drawn
    await page.locator(".chart canvas").first().waitFor();
    await shot(page, "console");
    expect(errors).toEqual([]);
    expect(refused).toEqual([]);
  });
});

describe("deployment", () => {
  test("with API_KEYS the app asks for a key, sends it, and each page stays within the default rate limit", async () => {
    const ctx = await w.context();
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const statuses: number[] = [];
    const sent: { page: string; query: string; variables: Record<string, unknown>; key: string | undefined }[] = [];
    let current = "";
    page.on("request", (r) => {
      if (r.method() === "POST" && r.url().endsWith("/graphql")) {
        const body = JSON.parse(r.postData() ?? "{}");
        sent.push({ page: current, query: body.query, variables: body.variables ?? {}, key: r.headers()["x-api-key"] });
      }
    });
    page.on("response", (r) => {
      if (r.url().endsWith("/graphql")) statuses.push(r.status());
    });

    await page.goto(w.keyed.url);
    await page.getByRole("heading", { name: "API key" }).waitFor();
    expect(statuses).toEqual([401]);
    await page.getByLabel("API key").fill(KEY);
    await page.getByRole("button", { name: "Continue" }).click();
    await page.locator('[data-page="trending"]').waitFor();
    expect(await rowsOf(page, "Pools").count()).toBeGreaterThan(0);
    statuses.length = 0;
    sent.length = 0;

    const {
      rows: [x],
    } = await w.sql.query<{ mint: string; pool: string; signature: string; trader: string }>(
      `select mint_in as mint, pool, signature, trader from swaps order by slot desc, signature limit 1`,
    );
    // each page as a viewer uses it: the trending page's other rankings, every PnL window, a search
    const pages: [string, string, string, ((page: Page) => Promise<void>)?][] = [
      ["trending", `${w.keyed.url}/#/`, "trending"],
      ["trending ranked", `${w.keyed.url}/#/?tokens=PRICE_CHANGE_24H_DESC&pools=TVL_DESC`, "trending"],
      ["token", `${w.keyed.url}/#/token/${x!.mint}`, "token"],
      ["pool", `${w.keyed.url}/#/pool/${x!.pool}`, "pool"],
      ["pool m1", `${w.keyed.url}/#/pool/${x!.pool}?interval=M1`, "pool"],
      [
        "wallet",
        `${w.keyed.url}/#/wallet/${x!.trader}`,
        "wallet",
        async (page) => {
          for (const [label, window] of [
            ["30 d", "D30"],
            ["7 d", "D7"],
            ["1 d", "D1"],
          ] as const) {
            await page.getByRole("button", { name: label }).click();
            await page.locator(`section[data-section="PnL"][data-window="${window}"]:not([aria-busy])`).waitFor();
          }
        },
      ],
      ["transaction", `${w.keyed.url}/#/tx/${x!.signature}`, "transaction"],
      [
        "search",
        `${w.keyed.url}/#/`,
        "trending",
        async (page) => {
          await page.getByRole("searchbox").fill(x!.pool);
          await page.getByRole("searchbox").press("Enter");
          await page.locator('[data-page="pool"]').waitFor();
        },
      ],
      ["console", `${w.keyed.url}/console`, "console"],
    ];
    for (const [name, url, kind, then] of pages) {
      current = name;
      await page.goto("about:blank");
      await page.goto(url);
      await page.locator(`[data-page="${kind}"]`).waitFor();
      await then?.(page);
      await page.waitForTimeout(kind === "console" ? 4_500 : 300);
    }
    expect(errors).toEqual([]);
    // every request carried the key, none was refused (no 401, no 429, no guard error)
    expect(sent.every((s) => s.key === KEY)).toBe(true);
    expect(statuses.every((s) => s === 200)).toBe(true);

    // every document the app has was sent (and is priced below)
    const names = Object.entries(ALL);
    expect(names.filter(([, doc]) => !sent.some((s) => s.query === doc)).map(([name]) => name)).toEqual([]);
    // what each page costs, priced as the guards price it (DEFAULT_LIMITS)
    const costs = new Map<string, number>();
    for (const s of sent) {
      const { cost } = operationCost(schema, parse(s.query), null, s.variables, DEFAULT_LIMITS);
      expect(cost).toBeLessThanOrEqual(DEFAULT_LIMITS.maxCost);
      costs.set(s.page, (costs.get(s.page) ?? 0) + Math.max(DEFAULT_RATE_LIMIT.minCost, cost));
    }
    console.log(`cost per page load (units, requests included): ${JSON.stringify(Object.fromEntries(costs))}`);
    const heaviest = Math.max(...[...costs].filter(([p]) => p !== "console").map(([, c]) => c));
    // a viewer opening the heaviest page spends less than one burst of the default budget
    expect(heaviest).toBeLessThanOrEqual(DEFAULT_RATE_LIMIT.capacity);
    // the console polling for a minute spends less than a minute's default budget (50,000)
    const poll = sent.find((s) => s.page === "console" && s.query.includes("indexerStatus"))!;
    const pollCost = Math.max(
      DEFAULT_RATE_LIMIT.minCost,
      operationCost(schema, parse(poll.query), null, {}, DEFAULT_LIMITS).cost,
    );
    console.log(`console: ${pollCost} units a poll, ${(pollCost * 60_000) / POLL_MS} a minute`);
    expect((pollCost * 60_000) / POLL_MS).toBeLessThanOrEqual(
      (DEFAULT_RATE_LIMIT.capacity * 60_000) / DEFAULT_RATE_LIMIT.windowMs,
    );
  });

  test("behind a path prefix every request stays under the prefix and the pages render", async () => {
    const { page, errors, refused } = await open("about:blank");
    const urls: string[] = [];
    page.on("request", (r) => urls.push(r.url()));
    await page.goto(w.proxied);
    await page.locator('[data-page="trending"]').waitFor();
    expect(await rowsOf(page, "Pools").count()).toBeGreaterThan(0);
    await page.goto(`${w.proxied}#/pool/${w.held.pool}`);
    await page.locator('[data-page="pool"]').waitFor();
    await page.goto(`${w.proxied}console`);
    await page.locator('[data-page="console"]').waitFor();
    await expect(statValue(page, "Latest stored").textContent()).resolves.toMatch(/^\d+$/);
    expect(urls.filter((u) => !u.startsWith(w.proxied) && !u.startsWith("about:"))).toEqual([]);
    expect(urls.filter((u) => u.endsWith("/prefix/graphql")).length).toBeGreaterThan(2);
    expect(errors).toEqual([]);
    expect(refused).toEqual([]);
  });
});
