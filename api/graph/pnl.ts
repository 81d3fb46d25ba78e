/**
 * Wallet PnL (`Account.pnl(window)`): per token and in total, from the wallet's priced trades in chain order with
 * average cost, and its current balances at the latest prices.
 * @dev computed per request: a wallet's trades are few, read through trades_trader_idx up to MAX_PNL_TRADES. The
 * cost basis runs over the wallet's whole history whatever the window; a window only selects which trades' amounts,
 * USD and realized PnL it sums.
 */
import { builder } from "./builder.js";
import type { RequestContext } from "../context.js";
import { apiError } from "../errors.js";
import { USDC_MINT, USDT_MINT } from "../../core/presets.js";
import {
  type PnlTradeRecord,
  holdersOf,
  mintTrades,
  pricedNow,
  walletHoldings,
  walletTrades,
} from "../queries/index.js";
import { Account, Token } from "./refs.js";

/** Most trades one wallet's PnL reads; a wallet with more is refused rather than answered from part of them. */
export const MAX_PNL_TRADES = 20_000;
/** Fraction digits of the arithmetic (those of a unit price); figures are reported at OUT_DIGITS. */
const DIGITS = 36;
const OUT_DIGITS = 12;
const ONE = 10n ** BigInt(DIGITS);

/** A decimal string as a bigint of DIGITS fraction digits (exact for the stored scales). */
function scaled(s: string): bigint {
  const neg = s.startsWith("-");
  const [i, f = ""] = (neg ? s.slice(1) : s).split(".");
  const v = BigInt(i || "0") * ONE + BigInt((f + "0".repeat(DIGITS)).slice(0, DIGITS) || "0");
  return neg ? -v : v;
}

/** A scaled value as a decimal string of at most OUT_DIGITS fraction digits (truncated toward zero). */
function decimal(v: bigint): string {
  const neg = v < 0n;
  const a = (neg ? -v : v) / 10n ** BigInt(DIGITS - OUT_DIGITS);
  const unit = 10n ** BigInt(OUT_DIGITS);
  const frac = (a % unit).toString().padStart(OUT_DIGITS, "0").replace(/0+$/, "");
  const out = `${a / unit}${frac ? `.${frac}` : ""}`;
  return neg && a !== 0n ? `-${out}` : out;
}

export const PnlWindow = builder.enumType("PnlWindow", {
  description:
    "The trades a PnL figure sums: the last day, 7 or 30 days of block time before the priced clock, or all.",
  values: ["D1", "D7", "D30", "ALL"] as const,
});
const WINDOW_DAYS = { D1: 1, D7: 7, D30: 30, ALL: null } as const;

type TokenPnl = {
  mint: string;
  trades: number;
  boughtAmount: bigint;
  boughtUsd: bigint;
  soldAmount: bigint;
  soldUsd: bigint;
  realized: bigint;
  unrealized: bigint | null;
  balance: bigint;
  /** tracked quantity and its cost (the average-cost basis) */
  qty: bigint;
  cost: bigint;
  first: PnlTradeRecord | null;
  last: PnlTradeRecord | null;
};
type TraderPnl = TokenPnl & { trader: string };
type WalletPnl = { from: Date | null; asOf: Date | null; tokens: TokenPnl[]; trades: number };

/**
 * Runs the wallet's trades in chain order. A priced buy adds its amount and USD value to the token's basis; a priced
 * sell takes the basis's average cost off the part it covers and realizes that part's proceeds less that cost (a sale
 * beyond the tracked quantity, of tokens that came in by transfer, realizes nothing for the excess). A trade without a
 * USD value counts in trades and amounts only.
 */
export function computePnl(trades: PnlTradeRecord[], from: Date | null): Map<string, TokenPnl> {
  const out = new Map<string, TokenPnl>();
  const of = (mint: string) => {
    let p = out.get(mint);
    if (!p) {
      p = {
        mint,
        trades: 0,
        boughtAmount: 0n,
        boughtUsd: 0n,
        soldAmount: 0n,
        soldUsd: 0n,
        realized: 0n,
        unrealized: null,
        balance: 0n,
        qty: 0n,
        cost: 0n,
        first: null,
        last: null,
      };
      out.set(mint, p);
    }
    return p;
  };
  for (const t of trades) {
    const inWindow = from == null || (t.blockTime != null && t.blockTime >= from);
    const v = t.valueUsd == null ? null : scaled(t.valueUsd);
    const b = of(t.boughtMint);
    const s = of(t.soldMint);
    const bought = BigInt(t.boughtAmount);
    const sold = BigInt(t.soldAmount);
    if (v != null) {
      b.qty += bought;
      b.cost += v;
    }
    let realized = 0n;
    if (v != null && sold > 0n) {
      const covered = sold < s.qty ? sold : s.qty;
      if (covered > 0n) {
        const basis = (s.cost * covered) / s.qty;
        realized = (v * covered) / sold - basis;
        s.qty -= covered;
        s.cost -= basis;
      }
    }
    if (!inWindow) continue;
    for (const p of b === s ? [b] : [b, s]) {
      p.trades++;
      p.first ??= t;
      p.last = t;
    }
    b.boughtAmount += bought;
    s.soldAmount += sold;
    if (v != null) {
      b.boughtUsd += v;
      s.soldUsd += v;
      s.realized += realized;
    }
  }
  return out;
}

/** The unrealized PnL of a basis on `balance` at `unit` (see TokenPnl.unrealizedPnlUsd). */
function unrealizedOf(p: TokenPnl, balance: bigint, unit: string | null): bigint | null {
  const covered = balance < p.qty ? balance : p.qty;
  return unit == null || p.qty === 0n ? null : covered * scaled(unit) - (p.cost * covered) / p.qty;
}

/** Most trades of a token topTraders reads; a token with more is refused (it is computed per request). */
export const MAX_TOP_TRADER_TRADES = 50_000;

/** The window's start: null for ALL; `asOf` null (nothing priced) leaves no trade in a bounded window. */
function windowStart(asOf: Date | null, window: keyof typeof WINDOW_DAYS): { from: Date | null; cut: Date | null } {
  const days = WINDOW_DAYS[window];
  if (days == null) return { from: null, cut: null };
  const from = asOf == null ? null : new Date(asOf.getTime() - days * 86_400_000);
  return { from, cut: from ?? new Date(8.64e15) };
}

async function topTraders(
  ctx: RequestContext,
  mint: string,
  window: keyof typeof WINDOW_DAYS,
  orderBy: "PNL_DESC" | "VOLUME_DESC",
  first: number,
): Promise<TraderPnl[]> {
  const asOf = await pricedNow(ctx.reader);
  const { cut } = windowStart(asOf, window);
  const trades = await mintTrades(ctx.reader, mint, MAX_TOP_TRADER_TRADES + 1);
  if (trades.length > MAX_TOP_TRADER_TRADES)
    throw apiError("BAD_USER_INPUT", `topTraders: this token has more than ${MAX_TOP_TRADER_TRADES} trades.`);
  const by = new Map<string, PnlTradeRecord[]>();
  for (const t of trades) by.set(t.trader, [...(by.get(t.trader) ?? []), t]);
  const rows: TraderPnl[] = [];
  for (const [trader, list] of by) {
    const p = computePnl(list, cut).get(mint);
    if (p && p.trades > 0) rows.push({ ...p, trader });
  }
  const stables = ctx.app.config.USD_STABLES ?? [USDC_MINT, USDT_MINT];
  const held = await holdersOf(
    ctx.reader,
    mint,
    rows.map((r) => r.trader),
    stables,
  );
  const h = new Map(held.map((r) => [r.owner, r]));
  for (const r of rows) {
    r.balance = BigInt(h.get(r.trader)?.balance ?? "0");
    r.unrealized = unrealizedOf(r, r.balance, h.get(r.trader)?.unitPriceUsd ?? null);
  }
  const key = (r: TraderPnl) =>
    orderBy === "VOLUME_DESC" ? r.boughtUsd + r.soldUsd : r.realized + (r.unrealized ?? 0n);
  rows.sort((a, b) => {
    const d = key(b) - key(a);
    return d > 0n ? 1 : d < 0n ? -1 : a.trader < b.trader ? -1 : 1;
  });
  return rows.slice(0, first);
}

async function walletPnl(ctx: RequestContext, wallet: string, window: keyof typeof WINDOW_DAYS): Promise<WalletPnl> {
  const asOf = await pricedNow(ctx.reader);
  const days = WINDOW_DAYS[window];
  const from = days == null || asOf == null ? null : new Date(asOf.getTime() - days * 86_400_000);
  const trades = await walletTrades(ctx.reader, wallet, MAX_PNL_TRADES + 1);
  if (trades.length > MAX_PNL_TRADES)
    throw apiError("BAD_USER_INPUT", `pnl: this wallet has more than ${MAX_PNL_TRADES} trades.`);
  const all = computePnl(trades, days == null ? null : (from ?? new Date(8.64e15)));
  const tokens = [...all.values()].filter((p) => p.trades > 0);
  const stables = ctx.app.config.USD_STABLES ?? [USDC_MINT, USDT_MINT];
  const held = await walletHoldings(
    ctx.reader,
    wallet,
    tokens.map((p) => p.mint),
    stables,
  );
  const h = new Map(held.map((r) => [r.mint, r]));
  for (const p of tokens) {
    const r = h.get(p.mint);
    p.balance = BigInt(r?.balance ?? "0");
    const covered = p.balance < p.qty ? p.balance : p.qty;
    p.unrealized =
      r?.unitPriceUsd == null || p.qty === 0n ? null : covered * scaled(r.unitPriceUsd) - (p.cost * covered) / p.qty;
  }
  tokens.sort((a, b) => (a.mint < b.mint ? -1 : 1));
  const inWindow = trades.filter((t) => days == null || (from != null && t.blockTime != null && t.blockTime >= from));
  return { from, asOf, tokens, trades: inWindow.length };
}

const TradeRef = builder.objectRef<PnlTradeRecord>("PnlTrade").implement({
  description: "A trade's place in the chain.",
  fields: (t) => ({
    slot: t.exposeInt("slot"),
    blockTime: t.field({ type: "DateTime", nullable: true, resolve: (r) => r.blockTime }),
  }),
});

const TokenPnlRef = builder.objectRef<TokenPnl>("TokenPnl").implement({
  description:
    "A wallet's trading of one token over a window: amounts raw, USD as decimal strings (trades with a USD value).",
  fields: (t) => ({
    mint: t.exposeString("mint"),
    token: t.field({ type: Token, nullable: true, resolve: (p) => p.mint }),
    trades: t.exposeInt("trades", { description: "trades in the window that bought or sold it" }),
    boughtAmount: t.field({ type: "BigInt", resolve: (p) => p.boughtAmount }),
    boughtUsd: t.string({ resolve: (p) => decimal(p.boughtUsd) }),
    soldAmount: t.field({ type: "BigInt", resolve: (p) => p.soldAmount }),
    soldUsd: t.string({ resolve: (p) => decimal(p.soldUsd) }),
    realizedPnlUsd: t.string({
      description: "the window's sells' proceeds less their average cost (over the wallet's whole history)",
      resolve: (p) => decimal(p.realized),
    }),
    unrealizedPnlUsd: t.string({
      nullable: true,
      description:
        "the current balance (up to the quantity with a cost basis) at the latest price, less its average cost; " +
        "null without a price or a cost basis; the same in every window",
      resolve: (p) => (p.unrealized == null ? null : decimal(p.unrealized)),
    }),
    balance: t.field({
      type: "BigInt",
      description: "the wallet's current balance (its token accounts)",
      resolve: (p) => p.balance,
    }),
    firstTrade: t.field({ type: TradeRef, nullable: true, resolve: (p) => p.first }),
    lastTrade: t.field({ type: TradeRef, nullable: true, resolve: (p) => p.last }),
  }),
});

const WalletPnlRef = builder.objectRef<WalletPnl>("WalletPnl").implement({
  description: "A wallet's PnL over a window ending at the priced clock, per token and in total.",
  fields: (t) => ({
    asOf: t.field({ type: "DateTime", nullable: true, resolve: (w) => w.asOf }),
    from: t.field({ type: "DateTime", nullable: true, description: "null for ALL", resolve: (w) => w.from }),
    trades: t.exposeInt("trades"),
    realizedPnlUsd: t.string({ resolve: (w) => decimal(w.tokens.reduce((a, p) => a + p.realized, 0n)) }),
    unrealizedPnlUsd: t.string({
      description: "the sum of the tokens' that have one",
      resolve: (w) => decimal(w.tokens.reduce((a, p) => a + (p.unrealized ?? 0n), 0n)),
    }),
    tokens: t.field({
      type: [TokenPnlRef],
      description: "tokens it traded in the window, by mint",
      resolve: (w) => w.tokens,
    }),
  }),
});

export const TopTraderOrder = builder.enumType("TopTraderOrder", {
  description: "PNL_DESC: realized (window) plus unrealized PnL; VOLUME_DESC: bought plus sold USD in the window.",
  values: ["PNL_DESC", "VOLUME_DESC"] as const,
});

const TraderPnlRef = builder.objectRef<TraderPnl>("TraderPnl").implement({
  description: "One wallet's trading of a token over a window (the figures of TokenPnl).",
  fields: (t) => ({
    trader: t.exposeString("trader"),
    account: t.field({ type: Account, resolve: (p) => ({ address: p.trader }) }),
    pnl: t.field({ type: TokenPnlRef, resolve: (p) => p }),
  }),
});

/** Most rows one topTraders call returns. */
export const MAX_TOP_TRADERS = 100;

builder.objectFields(Token, (t) => ({
  topTraders: t.field({
    type: [TraderPnlRef],
    description:
      "The wallets that traded it in the window, by PnL or volume (ties by address), with their PnL on it; computed " +
      "per request from its trades (a token with more than 50,000 is refused).",
    args: {
      window: t.arg({ type: PnlWindow, defaultValue: "D1", required: true }),
      orderBy: t.arg({ type: TopTraderOrder, defaultValue: "PNL_DESC", required: true }),
      first: t.arg.int({ defaultValue: 10, required: true }),
    },
    resolve: (tok, args, ctx) => {
      if (args.first < 0 || args.first > MAX_TOP_TRADERS)
        throw apiError("BAD_USER_INPUT", `topTraders: first is between 0 and ${MAX_TOP_TRADERS}.`);
      return topTraders(ctx, tok.mint, args.window, args.orderBy, args.first);
    },
  }),
}));

builder.objectFields(Account, (t) => ({
  pnl: t.field({
    type: WalletPnlRef,
    args: { window: t.arg({ type: PnlWindow, defaultValue: "ALL", required: true }) },
    description: "Profit and loss from its trades (average cost, in chain order) over the window.",
    resolve: (a, args, ctx) => walletPnl(ctx, a.address, args.window),
  }),
}));
