/** A token: figures, its USD price chart, holders, pools and the latest transfers. */
import { gql } from "../api.js";
import { candleChart } from "../chart.js";
import { h, stat, table } from "../dom.js";
import { decimal, short, usd } from "../format.js";
import { TOKEN } from "../queries.js";
import { type PageContext, amount, pairName, poolLink, section, txLink, walletLink, when } from "./common.js";

export async function tokenPage(ctx: PageContext): Promise<Node> {
  const { token: t } = await gql<{ token: any }>(TOKEN, { mint: ctx.arg }, ctx.signal);
  if (!t) return h("div", { class: "page" }, h("h1", {}, "Token not found"), h("p", {}, ctx.arg));
  const pools: any[] = t.pools.edges.map((e: any) => e.node);
  const chartBox = h("div", { class: "chart" });
  const candles = t.priceCandles.map((c: any) => ({ ...c, swaps: c.points }));
  const page = h(
    "div",
    { class: "page", "data-page": "token" },
    h("h1", {}, t.symbol ?? short(t.mint), " ", h("small", {}, t.name ?? "")),
    h("p", { class: "mono" }, t.mint),
    h(
      "div",
      { class: "stats" },
      stat("Price", usd(t.priceUsd), t.priceUsd ?? undefined),
      stat("Market cap", usd(t.marketCapUsd), t.marketCapUsd ?? undefined),
      stat("Supply", t.supply == null ? "–" : amount(t.supplyUi, t.supply)),
      stat("Holders", t.holderCount),
      stat("Decimals", t.decimals ?? "–"),
      stat("Program", t.program),
      stat("Mint authority", walletLink(t.mintAuthority)),
      stat("First seen slot", t.firstSeenSlot),
    ),
    section(
      "Price (USD, 5 min)",
      candles.length ? chartBox : h("p", { class: "empty" }, "No USD price in the day before its newest one."),
    ),
    section(
      "Holders",
      table(
        ["Owner", "Balance", "Share", "Accounts"],
        t.holders.edges.map(({ node: x }: any) => [
          walletLink(x.owner),
          amount(x.amountUi, x.amount),
          x.share == null ? "–" : `${decimal(multiplyPercent(x.share), 4)}%`,
          x.accounts,
        ]),
      ),
    ),
    section(
      "Pools",
      table(
        ["Pool", "DEX", "Price", "TVL"],
        pools.map((p) => [poolLink(p.address, pairName(p)), p.dex, decimal(p.price, 8), usd(p.tvlUsd)]),
      ),
    ),
    section(
      "Latest transfers",
      table(
        ["Time", "Kind", "From", "To", "Amount", "Transaction"],
        t.transfers.edges.map(({ node: x }: any) => [
          when(x.blockTime),
          x.kind,
          walletLink(x.sourceOwner ?? x.source),
          walletLink(x.destinationOwner ?? x.destination),
          amount(x.amountUi, x.amount),
          txLink(x.signature),
        ]),
      ),
    ),
  );
  if (candles.length) requestAnimationFrame(() => candleChart(chartBox, candles));
  return page;
}

/** share × 100 as a decimal string (shift the point by two places; exact). */
function multiplyPercent(share: string): string {
  const [i = "0", f = ""] = share.split(".");
  const frac = f.padEnd(2, "0");
  return `${(i + frac.slice(0, 2)).replace(/^0+(?=\d)/, "")}.${frac.slice(2) || "0"}`;
}
