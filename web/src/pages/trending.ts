/**
 * Trending: the top 50 tokens and pools of the API's rankings (24 h volume by default; a switch per table picks
 * another), each row with its market figures. The order is the server's: the page sorts nothing.
 */
import { gql } from "../api.js";
import { h, table } from "../dom.js";
import { decimal, pct, time, usd } from "../format.js";
import { POOL_RANKINGS, TOKEN_RANKINGS, TRENDING } from "../queries.js";
import { type PageContext, pairName, poolLink, section, tokenLink } from "./common.js";

type Data = {
  tokens: { edges: { node: any }[] };
  pools: { edges: { node: any }[] };
};

const LABELS: Record<string, string> = {
  VOLUME_24H_DESC: "Volume 24h",
  PRICE_CHANGE_24H_DESC: "Change 24h",
  MARKET_CAP_DESC: "Market cap",
  LIQUIDITY_DESC: "Liquidity",
  TRADES_24H_DESC: "Trades 24h",
  HOLDERS_DESC: "Holders",
  TVL_DESC: "TVL",
  NEWEST: "Newest",
};

/** A ranking switch: one link per ranking, the route's query string with `param` set to it. */
function rankingNav(param: string, values: readonly string[], current: string, query: URLSearchParams): HTMLElement {
  return h(
    "nav",
    { class: "intervals", "aria-label": `${param} ranking` },
    ...values.map((v) => {
      const q = new URLSearchParams(query);
      q.set(param, v);
      return h("a", { href: `#/?${q}`, class: v === current ? "active" : null, "data-ranking": v }, LABELS[v] ?? v);
    }),
  );
}

/** A percent change, coloured by its sign. */
const change = (s: string | null | undefined) =>
  h(
    "span",
    { class: s == null ? null : s.startsWith("-") ? "down" : /[1-9]/.test(s) ? "up" : null, title: s ?? undefined },
    pct(s),
  );

export async function trendingPage(ctx: PageContext): Promise<Node> {
  const tokenRanking = TOKEN_RANKINGS.find((r) => r === ctx.query.get("tokens")) ?? TOKEN_RANKINGS[0];
  const poolRanking = POOL_RANKINGS.find((r) => r === ctx.query.get("pools")) ?? POOL_RANKINGS[0];
  const data = await gql<Data>(TRENDING, { tokens: tokenRanking, pools: poolRanking }, ctx.signal);
  const tokens = data.tokens.edges.map((e) => e.node);
  const pools = data.pools.edges.map((e) => e.node);
  const asOf = tokens[0]?.market?.asOf ?? null;
  const none = "No ranking yet: the pricing stage computes one once it has priced the stored slots.";
  return h(
    "div",
    { class: "page", "data-page": "trending" },
    h("h1", {}, "Trending"),
    h(
      "p",
      { class: "hint" },
      "The top 50 of the API's rankings, computed by the pricing stage at its cursor; 24 h windows end at the chain's ",
      "priced clock",
      asOf ? ` (${time(asOf)})` : "",
      ", not the wall clock.",
    ),
    section(
      "Tokens",
      rankingNav("tokens", TOKEN_RANKINGS, tokenRanking, ctx.query),
      table(
        ["#", "Token", "Name", "Price", "Change 24h", "Volume 24h", "Trades 24h", "Liquidity", "Market cap", "Holders"],
        tokens.map((t, i) => {
          const m = t.market ?? {};
          return [
            i + 1,
            tokenLink(t.mint, t),
            t.name ?? "–",
            h("span", { title: m.priceUsd ?? undefined }, usd(m.priceUsd)),
            change(m.h24?.priceChangePct),
            usd(m.h24?.volumeUsd),
            m.h24?.trades ?? "–",
            usd(m.liquidityUsd),
            usd(m.marketCapUsd),
            m.holders ?? "–",
          ];
        }),
        none,
      ),
    ),
    section(
      "Pools",
      rankingNav("pools", POOL_RANKINGS, poolRanking, ctx.query),
      table(
        ["#", "Pool", "DEX", "Price", "TVL", "Volume 24h", "Swaps 24h", "Traders 24h"],
        pools.map((p, i) => [
          i + 1,
          poolLink(p.address, pairName(p)),
          p.dex,
          h("span", { title: p.price ?? "" }, decimal(p.price, 8)),
          usd(p.tvlUsd),
          usd(p.market?.h24?.volumeUsd),
          p.market?.h24?.trades ?? "–",
          p.market?.h24?.uniqueTraders ?? "–",
        ]),
        none,
      ),
    ),
  );
}
