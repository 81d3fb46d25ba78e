/** A wallet: SOL, holdings with their USD value (the portfolio), and its trades. */
import { gql } from "../api.js";
import { h, stat, table } from "../dom.js";
import { multiply, sum, usd } from "../format.js";
import { WALLET } from "../queries.js";
import { type PageContext, amount, section, tokenLink, txLink, when } from "./common.js";

export async function walletPage(ctx: PageContext): Promise<Node> {
  const { account: a, trades } = await gql<{ account: any; trades: any }>(WALLET, { address: ctx.arg }, ctx.signal);
  const holdings: any[] = a.balances.edges.map((e: any) => e.node);
  const values = holdings.map((x) =>
    x.amountUi != null && x.token?.priceUsd != null ? multiply(x.amountUi, x.token.priceUsd) : null,
  );
  const priced = values.filter((v): v is string => v != null);
  return h(
    "div",
    { class: "page", "data-page": "wallet" },
    h("h1", {}, "Wallet"),
    h("p", { class: "mono" }, a.address),
    h(
      "div",
      { class: "stats" },
      stat("SOL", a.solBalance == null ? "–" : amount(a.solBalanceUi, a.solBalance)),
      stat("Tokens held", holdings.length),
      stat("Priced holdings", priced.length ? usd(sum(priced)) : "–"),
    ),
    section(
      "Portfolio",
      table(
        ["Token", "Balance", "Price", "Value", "Accounts"],
        holdings.map((x, i) => [
          tokenLink(x.mint, x.token),
          amount(x.amountUi, x.amount),
          usd(x.token?.priceUsd),
          usd(values[i]),
          x.accounts,
        ]),
        "No token held (as far as the stored transactions tell).",
      ),
    ),
    section(
      "Trades",
      table(
        ["Time", "Sold", "Bought", "Value", "Transaction"],
        trades.edges.map(({ node: t }: any) => [
          when(t.blockTime),
          h("span", {}, amount(t.soldAmountUi, t.soldAmount), " ", tokenLink(t.soldMint, t.soldToken)),
          h("span", {}, amount(t.boughtAmountUi, t.boughtAmount), " ", tokenLink(t.boughtMint, t.boughtToken)),
          usd(t.valueUsd),
          txLink(t.signature),
        ]),
        "No trade stored.",
      ),
    ),
  );
}
