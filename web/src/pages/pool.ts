/** A pool: reserves, TVL, 24 h volume, candles, and its swaps, the newest pushed live as their blocks are stored. */
import { gql, subscribe } from "../api.js";
import { candleChart } from "../chart.js";
import { h, stat, table } from "../dom.js";
import { applyDecimals, decimal, usd } from "../format.js";
import { POOL, POOL_SWAPS } from "../queries.js";
import { type PageContext, amount, pairName, section, tokenLink, txLink, walletLink, when } from "./common.js";

const INTERVALS = ["M1", "M5", "H1", "D1"] as const;

/** One swap as a table row; `live` marks the ones pushed since the page loaded. */
function swapRow(s: any, live: boolean): HTMLElement {
  return h(
    "tr",
    { "data-swap": `${s.signature}/${s.instructionPath}`, class: live ? "live" : null },
    h("td", {}, when(s.blockTime)),
    h("td", {}, walletLink(s.trader)),
    h("td", {}, amount(s.amountInUi, s.amountIn), " ", tokenLink(s.mintIn, s.tokenIn)),
    h("td", {}, amount(s.amountOutUi, s.amountOut), " ", tokenLink(s.mintOut, s.tokenOut)),
    h("td", {}, usd(s.valueUsd)),
    h("td", {}, s.slot),
    h("td", {}, txLink(s.signature)),
  );
}

export async function poolPage(ctx: PageContext): Promise<Node> {
  const interval = INTERVALS.find((i) => i === ctx.query.get("interval")) ?? "M5";
  const { pool: p } = await gql<{ pool: any }>(POOL, { address: ctx.arg, interval }, ctx.signal);
  if (!p) return h("div", { class: "page" }, h("h1", {}, "Pool not found"), h("p", {}, ctx.arg));
  const a = p.tokenA?.symbol ?? "A";
  const b = p.tokenB?.symbol ?? "B";
  const chartBox = h("div", { class: "chart" });
  const rows = h("tbody", {}, ...p.swaps.edges.map((e: any) => swapRow(e.node, false)));
  const liveState = h("span", { class: "live-state" }, "connecting…");
  const page = h(
    "div",
    { class: "page", "data-page": "pool" },
    h("h1", {}, pairName(p), " ", h("small", {}, p.dex)),
    h("p", { class: "mono" }, p.address),
    h(
      "div",
      { class: "stats" },
      stat("Price", `${decimal(p.price, 8)} ${b}/${a}`, p.price ?? undefined),
      stat("TVL", usd(p.tvlUsd), p.tvlUsd ?? undefined),
      stat(
        `Reserve ${a}`,
        p.reserveA == null ? "–" : amount(applyDecimals(p.reserveA, p.tokenA?.decimals), p.reserveA),
      ),
      stat(
        `Reserve ${b}`,
        p.reserveB == null ? "–" : amount(applyDecimals(p.reserveB, p.tokenB?.decimals), p.reserveB),
      ),
      stat("Swaps 24h", p.volume.swaps),
      stat(`Volume 24h ${a}`, amount(p.volume.volumeAUi, p.volume.volumeA)),
      stat(`Volume 24h ${b}`, amount(p.volume.volumeBUi, p.volume.volumeB)),
      stat("Tokens", h("span", {}, tokenLink(p.mintA, p.tokenA), " / ", tokenLink(p.mintB, p.tokenB))),
    ),
    section(
      `Candles (${b} per ${a})`,
      h(
        "nav",
        { class: "intervals" },
        ...INTERVALS.map((i) =>
          h(
            "a",
            { href: `#/pool/${p.address}?interval=${i}`, class: i === interval ? "active" : null },
            i.toLowerCase(),
          ),
        ),
      ),
      p.candles.length ? chartBox : h("p", { class: "empty" }, "No swap in the last 24 hours of the chain."),
    ),
    section(
      "Swaps",
      h("p", { class: "hint" }, "New swaps appear as their blocks are stored: ", liveState),
      h(
        "table",
        { class: "swaps" },
        h(
          "thead",
          {},
          h("tr", {}, ...["Time", "Trader", "In", "Out", "Value", "Slot", "Transaction"].map((x) => h("th", {}, x))),
        ),
        rows,
      ),
    ),
  );
  if (p.candles.length) requestAnimationFrame(() => candleChart(chartBox, p.candles));
  liveState.textContent = "live";
  void subscribe<{ swaps: any }>(
    POOL_SWAPS,
    { pool: p.address },
    ({ swaps: s }) => {
      if (rows.querySelector(`tr[data-swap="${CSS.escape(`${s.signature}/${s.instructionPath}`)}"]`)) return;
      rows.prepend(swapRow(s, true));
      while (rows.children.length > 100) rows.lastElementChild?.remove();
    },
    ctx.signal,
  );
  return page;
}
