/**
 * A wallet: SOL, holdings with their USD value (the portfolio), its PnL over a window (per token and in total, with a
 * window switch that asks for the PnL alone), and its trades.
 */
import { ApiError, AuthError, gql } from "../api.js";
import { h, stat, table } from "../dom.js";
import { add, applyDecimals, multiply, sum, time, usd } from "../format.js";
import { PNL_WINDOWS, WALLET, WALLET_PNL } from "../queries.js";
import { type PageContext, amount, section, tokenLink, txLink, when } from "./common.js";

type PnlWindow = (typeof PNL_WINDOWS)[number];
const WINDOW_LABELS: Record<PnlWindow, string> = { ALL: "All", D30: "30 d", D7: "7 d", D1: "1 d" };

/** A USD profit or loss, coloured by its sign, the exact figure on hover. */
const pnlUsd = (s: string | null | undefined) =>
  h(
    "span",
    { class: s == null ? null : s.startsWith("-") ? "down" : /[1-9]/.test(s) ? "up" : null, title: s ?? undefined },
    usd(s),
  );

/** A raw amount of a token with its decimals applied when known. */
const tokenAmount = (raw: string, token: { decimals?: number | null } | null) =>
  amount(applyDecimals(raw, token?.decimals), raw);

/** The PnL section's body: totals, then one row per token the wallet traded in the window. */
function pnlBody(p: any): Node[] {
  const tokens: any[] = p.tokens;
  const bought = add(tokens.map((t) => t.boughtUsd));
  const sold = add(tokens.map((t) => t.soldUsd));
  const rows = table(
    [
      "Token",
      "Trades",
      "Bought",
      "Sold",
      "Bought (USD)",
      "Sold (USD)",
      "Realized",
      "Unrealized",
      "Balance",
      "Last trade",
    ],
    tokens.map((t) => [
      tokenLink(t.mint, t.token),
      t.trades,
      tokenAmount(t.boughtAmount, t.token),
      tokenAmount(t.soldAmount, t.token),
      usd(t.boughtUsd),
      usd(t.soldUsd),
      pnlUsd(t.realizedPnlUsd),
      pnlUsd(t.unrealizedPnlUsd),
      tokenAmount(t.balance, t.token),
      when(t.lastTrade?.blockTime),
    ]),
    "No trade in this window.",
  );
  if (rows.tagName === "TABLE")
    rows.append(
      h(
        "tfoot",
        {},
        h(
          "tr",
          { class: "total" },
          ...["Total", p.trades, "", "", usd(bought), usd(sold), pnlUsd(p.realizedPnlUsd), pnlUsd(p.unrealizedPnlUsd)]
            .concat(["", ""])
            .map((c) => h("td", {}, c)),
        ),
      ),
    );
  return [
    h(
      "div",
      { class: "stats" },
      stat("Realized PnL", pnlUsd(p.realizedPnlUsd)),
      stat("Unrealized PnL", pnlUsd(p.unrealizedPnlUsd)),
      stat("Trades", p.trades),
      stat("Bought (USD)", usd(bought), bought),
      stat("Sold (USD)", usd(sold), sold),
    ),
    h(
      "p",
      { class: "hint" },
      p.from ? `From ${time(p.from)} ` : "Over the whole history ",
      `to the priced clock (${time(p.asOf)}); average cost over the whole history, unrealized at the latest price.`,
    ),
    rows,
  ];
}

/** An error of the API shown in place (the rest of the page stays). */
function inlineError(err: unknown): HTMLElement {
  const code = err instanceof ApiError && err.code ? ` (${err.code})` : "";
  return h("div", { class: "error", role: "alert" }, `The API answered: ${(err as Error).message}${code}`);
}

/**
 * The PnL section: `first` (the page's first answer, or its error) shown at once; the window switch asks for the PnL
 * alone (WALLET_PNL) and keeps the window in the URL.
 */
function pnlSection(
  address: string,
  shown: PnlWindow,
  first: { pnl: any } | { error: unknown },
  signal: AbortSignal,
): HTMLElement {
  const body = h("div", { class: "pnl-body" }, ...("pnl" in first ? pnlBody(first.pnl) : [inlineError(first.error)]));
  let pending: AbortController | undefined;
  const buttons = PNL_WINDOWS.map((w) =>
    h(
      "button",
      {
        type: "button",
        "data-window": w,
        class: w === shown ? "active" : null,
        onclick: async () => {
          pending?.abort();
          const ctrl = new AbortController();
          pending = ctrl;
          signal.addEventListener("abort", () => ctrl.abort(), { once: true });
          for (const b of buttons) b.classList.toggle("active", b.dataset.window === w);
          el.setAttribute("aria-busy", "true");
          try {
            const { account } = await gql<{ account: any }>(WALLET_PNL, { address, window: w }, ctrl.signal);
            body.replaceChildren(...pnlBody(account.pnl));
            el.dataset.window = w;
            history.replaceState(null, "", `#/wallet/${address}${w === PNL_WINDOWS[0] ? "" : `?window=${w}`}`);
          } catch (err) {
            if (!ctrl.signal.aborted) body.replaceChildren(inlineError(err));
          } finally {
            if (pending === ctrl) el.removeAttribute("aria-busy");
          }
        },
      },
      WINDOW_LABELS[w],
    ),
  );
  const el = section("PnL", h("nav", { class: "intervals", "aria-label": "PnL window" }, ...buttons), body);
  el.dataset.window = shown;
  return el;
}

export async function walletPage(ctx: PageContext): Promise<Node> {
  const pnlWindow = PNL_WINDOWS.find((w) => w === ctx.query.get("window")) ?? PNL_WINDOWS[0];
  // the PnL beside the rest: a wallet whose PnL the API refuses (too many trades) still shows its holdings and trades
  const [{ account: a, trades }, pnl] = await Promise.all([
    gql<{ account: any; trades: any }>(WALLET, { address: ctx.arg }, ctx.signal),
    gql<{ account: any }>(WALLET_PNL, { address: ctx.arg, window: pnlWindow }, ctx.signal).then(
      (d) => ({ pnl: d.account.pnl }),
      (error: unknown) => {
        if (error instanceof AuthError || ctx.signal.aborted) throw error;
        return { error };
      },
    ),
  ]);
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
    pnlSection(a.address, pnlWindow, pnl, ctx.signal),
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
