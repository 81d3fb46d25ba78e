/**
 * Wallet PnL (`Account.pnl(window)`, `Token.topTraders`): per token and in total, from the `wallet_pnl` rows the
 * pricing stage keeps (each trade's part per mint, realized by average cost walked in chain order, and the basis
 * after it), and the wallet's current balances at the latest prices.
 * @dev the basis runs over the wallet's whole history whatever the window; a window only selects which rows' amounts,
 * USD and realized PnL it sums. Sums are exact numeric, read at 36 fraction digits and reported at OUT_DIGITS.
 */
import { builder } from "./builder.js";
import type { RequestContext } from "../context.js";
import { apiError } from "../errors.js";
import { USDC_MINT, USDT_MINT } from "../../core/presets.js";
import {
  type PnlSumRecord,
  type PnlTradeRecord,
  holdersOf,
  mintPnlSums,
  pricedNow,
  walletHoldings,
  walletPnlSums,
  walletTradeCount,
} from "../queries/index.js";
import { Account, Token } from "./refs.js";

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

/** A (trader, mint)'s window sums as read, as figures (balance and unrealized PnL still to set). */
function figuresOf(r: PnlSumRecord): TokenPnl {
  return {
    mint: r.mint,
    trades: r.trades,
    boughtAmount: BigInt(r.boughtAmount),
    boughtUsd: scaled(r.boughtUsd),
    soldAmount: BigInt(r.soldAmount),
    soldUsd: scaled(r.soldUsd),
    realized: scaled(r.realizedUsd),
    unrealized: null,
    balance: 0n,
    qty: BigInt(r.qty),
    cost: scaled(r.cost),
    first: { slot: Number(r.firstSlot), blockTime: r.firstTime },
    last: { slot: Number(r.lastSlot), blockTime: r.lastTime },
  };
}

/** The unrealized PnL of a basis on `balance` at `unit` (see TokenPnl.unrealizedPnlUsd). */
function unrealizedOf(p: TokenPnl, balance: bigint, unit: string | null): bigint | null {
  const covered = balance < p.qty ? balance : p.qty;
  return unit == null || p.qty === 0n ? null : covered * scaled(unit) - (p.cost * covered) / p.qty;
}

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
  const rows: TraderPnl[] = (await mintPnlSums(ctx.reader, mint, cut)).map((r) => ({
    ...figuresOf(r),
    trader: r.trader,
  }));
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
  const { from, cut } = windowStart(asOf, window);
  const tokens = (await walletPnlSums(ctx.reader, wallet, cut)).map(figuresOf);
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
    p.unrealized = unrealizedOf(p, p.balance, r?.unitPriceUsd ?? null);
  }
  tokens.sort((a, b) => (a.mint < b.mint ? -1 : 1));
  return { from, asOf, tokens, trades: await walletTradeCount(ctx.reader, wallet, cut) };
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
      "The wallets that traded it in the window, by PnL or volume (ties by address), with their PnL on it, from the " +
      "rows the pricing stage keeps per wallet, token and trade.",
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
