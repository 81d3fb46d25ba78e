/** Trending: pools by TVL (with their 24 h volume) and tokens by market cap, from the newest 50 of each. */
import { gql } from "../api.js";
import { h, table } from "../dom.js";
import { decimal, usd } from "../format.js";
import { TRENDING } from "../queries.js";
import { type PageContext, amount, pairName, poolLink, section, tokenLink } from "./common.js";

type Data = {
  pools: { edges: { node: any }[] };
  tokens: { edges: { node: any }[] };
};

/** Orders by a decimal string, largest first, unknown last (exact: compared as strings of digits, not floats). */
function byDecimalDesc<T>(get: (x: T) => string | null): (a: T, b: T) => number {
  const key = (s: string | null) => {
    if (s == null) return null;
    const [i = "0", f = ""] = s.split(".");
    return [i.replace(/^0+/, "").padStart(40, "0"), f.padEnd(40, "0")].join(".");
  };
  return (a, b) => {
    const x = key(get(a));
    const y = key(get(b));
    if (x === y) return 0;
    if (x == null) return 1;
    if (y == null) return -1;
    return x < y ? 1 : -1;
  };
}

export async function trendingPage(ctx: PageContext): Promise<Node> {
  const data = await gql<Data>(TRENDING, {}, ctx.signal);
  const pools = data.pools.edges.map((e) => e.node).sort(byDecimalDesc((p: any) => p.tvlUsd));
  const byCap = byDecimalDesc((t: any) => t.marketCapUsd);
  const byPrice = byDecimalDesc((t: any) => (t.priceUsd == null ? null : "1"));
  // by market cap, then those with a price, then by holders
  const tokens = data.tokens.edges
    .map((e) => e.node)
    .sort((a, b) => byCap(a, b) || byPrice(a, b) || b.holderCount - a.holderCount);
  return h(
    "div",
    { class: "page", "data-page": "trending" },
    h("h1", {}, "Trending"),
    h(
      "p",
      { class: "hint" },
      "The 50 pools that swapped last, by TVL; the 50 newest tokens, by market cap, then holders.",
    ),
    section(
      "Pools",
      table(
        ["Pool", "DEX", "Price", "TVL", "Swaps 24h", "Volume 24h (A)", "Volume 24h (B)"],
        pools.map((p) => [
          poolLink(p.address, pairName(p)),
          p.dex,
          h("span", { title: p.price ?? "" }, decimal(p.price, 8)),
          usd(p.tvlUsd),
          p.volume.swaps,
          amount(p.volume.volumeAUi, p.volume.volumeA),
          amount(p.volume.volumeBUi, p.volume.volumeB),
        ]),
      ),
    ),
    section(
      "Tokens",
      table(
        ["Token", "Name", "Price", "Market cap", "Holders", "Supply"],
        tokens.map((t) => [
          tokenLink(t.mint, t),
          t.name ?? "–",
          usd(t.priceUsd),
          usd(t.marketCapUsd),
          t.holderCount,
          t.supply == null ? "–" : amount(t.supplyUi, t.supply),
        ]),
      ),
    ),
  );
}
