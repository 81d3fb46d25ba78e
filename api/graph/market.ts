/**
 * Market data from the pricing stage's rollups: a token's and a pool's figures over 1 h / 24 h / 7 d, hourly and
 * daily buckets (`stats`), a root `dexStats`, and a token's USD candles. Windows end at the chain's clock as priced
 * (the newest block time at or below the pricing cursor), never the wall clock.
 */
import { builder } from "./builder.js";
import type { RequestContext } from "../context.js";
import { apiError } from "../errors.js";
import { USDC_MINT, USDT_MINT } from "../../core/presets.js";
import {
  type MarketBucketRecord,
  type MarketInterval,
  type MarketKind,
  type MarketWindowRecord,
  type TraderWindow,
  POOL_RANKINGS,
  type PoolRecord,
  type RankingWhere,
  TOKEN_RANKINGS,
  type TokenRecord,
  type UsdCandleRecord,
  WINDOW_HOURS,
  groupBy,
  latestRanking,
  latestTokenPrices,
  marketBuckets,
  marketWindows,
  pricedNow,
  rankingPage,
  tokenLiquidity,
  usdCandles,
  windowTraders,
} from "../queries/index.js";
import { type Page, type PageArgs, decodeCursor, encodeCursor } from "../sql/index.js";
import { reads } from "./reads.js";
import { Pool, Token } from "./refs.js";

/** Most buckets one stats, dexStats or usdCandles call may span. */
export const MAX_STATS_BUCKETS = 2_000;
const BUCKET_MS = { H1: 3_600_000, D1: 86_400_000 } as const;
const INTERVAL: Record<keyof typeof BUCKET_MS, MarketInterval> = { H1: "hour", D1: "day" };
/** Buckets a call spans when `from` is not given: a day of hours, 30 days. */
const DEFAULT_BUCKETS = { H1: 24, D1: 30 } as const;

export const StatsInterval = builder.enumType("StatsInterval", {
  description: "A rollup width: UTC hours or UTC days of block time.",
  values: ["H1", "D1"] as const,
});

type Range = { interval: keyof typeof BUCKET_MS; from?: Date | null; to?: Date | null };

/** [from, to) of a stats call: `to` defaults to the end of the bucket holding the priced clock. */
async function rangeOf(ctx: RequestContext, args: Range, field: string): Promise<{ from: Date; to: Date } | null> {
  const width = BUCKET_MS[args.interval];
  let to = args.to ?? null;
  if (to == null) {
    const now = await pricedNow(ctx.reader);
    if (now == null) return null;
    to = new Date(Math.floor(now.getTime() / width) * width + width);
  }
  const from = args.from ?? new Date(to.getTime() - DEFAULT_BUCKETS[args.interval] * width);
  if (to <= from) throw apiError("BAD_USER_INPUT", `${field}: \`from\` must be before \`to\`.`);
  if ((to.getTime() - from.getTime()) / width > MAX_STATS_BUCKETS)
    throw apiError(
      "BAD_USER_INPUT",
      `${field}: at most ${MAX_STATS_BUCKETS} buckets per call; use D1 or a shorter range.`,
    );
  return { from, to };
}

const MarketBucket = builder.objectRef<MarketBucketRecord>("MarketBucket").implement({
  description: "One hourly or daily rollup bucket of a token, pool or DEX, as priced.",
  fields: (t) => ({
    start: t.field({ type: "DateTime", resolve: (b) => b.bucket }),
    entity: t.exposeString("entity", { description: "the mint, pool address or DEX name" }),
    volumeUsd: t.exposeString("volumeUsd", {
      description: "USD value of the bucket's trades (token) or swaps (pool, DEX) that have a price",
    }),
    trades: t.exposeInt("trades", { description: "trades (token: from `trades`) or swaps (pool, DEX)" }),
    buys: t.exposeInt("buys", {
      description: "token: trades that bought it; pool: swaps that took its token A out; DEX: 0",
    }),
    sells: t.exposeInt("sells", { description: "token: trades that sold it; pool: swaps that put token A in; DEX: 0" }),
    uniqueTraders: t.exposeInt("traders", { description: "distinct traders of the bucket" }),
  }),
});

type WindowShape = MarketWindowRecord & TraderWindow & { to: Date };

const MarketWindow = builder.objectRef<WindowShape>("MarketWindow").implement({
  description:
    "Figures over the whole UTC hours from `from` to `to` (the priced clock): 1 h is the hour holding it, 24 h that " +
    "hour and the 23 before, 7 d 168 hours.",
  fields: (t) => ({
    from: t.expose("from", { type: "DateTime" }),
    to: t.expose("to", { type: "DateTime" }),
    volumeUsd: t.exposeString("volumeUsd"),
    trades: t.exposeInt("trades"),
    buys: t.exposeInt("buys"),
    sells: t.exposeInt("sells"),
    uniqueTraders: t.loadable({
      type: "Int",
      description: "distinct traders over the whole window (not a sum)",
      // read only when asked, for every window of the request in one statement
      load: (keys: string[], ctx: RequestContext) => {
        // "kind entity from": the kind and the time hold no space
        const windows = keys.map((k) => ({
          kind: k.slice(0, k.indexOf(" ")) as MarketKind,
          entity: k.slice(k.indexOf(" ") + 1, k.lastIndexOf(" ")),
          from: new Date(k.slice(k.lastIndexOf(" ") + 1)),
        }));
        ctx.metrics.batchSize.observe({ loader: "market.uniqueTraders" }, windows.length);
        return windowTraders(ctx.reader, windows);
      },
      resolve: (w) => `${w.kind} ${w.entity} ${w.from.toISOString()}`,
    }),
    priceChangePct: t.exposeString("priceChangePct", {
      nullable: true,
      description:
        "tokens: percent change from the price at `from` (the latest before it) to the latest price; null for pools " +
        "and while either is unknown",
    }),
  }),
});

type MarketShape = {
  kind: MarketKind;
  entity: string;
  asOf: Date;
  windows: Record<keyof typeof WINDOW_HOURS, MarketWindowRecord>;
  priceUsd?: string | null;
  marketCapUsd?: string | null;
  liquidityUsd?: string | null;
};

/** One window of a summary, as the MarketWindow type resolves it. */
const windowOf = (m: MarketShape, w: keyof typeof WINDOW_HOURS): WindowShape => ({
  ...m.windows[w],
  kind: m.kind,
  entity: m.entity,
  to: m.asOf,
});

const MarketSummary = builder.objectRef<MarketShape>("MarketSummary").implement({
  description: "A token's or pool's market figures as priced, ending at `asOf` (the chain's priced clock).",
  fields: (t) => ({
    asOf: t.expose("asOf", { type: "DateTime", description: "the block time of the newest priced slot" }),
    h1: t.field({ type: MarketWindow, resolve: (m) => windowOf(m, "h1") }),
    h24: t.field({ type: MarketWindow, resolve: (m) => windowOf(m, "h24") }),
    d7: t.field({ type: MarketWindow, resolve: (m) => windowOf(m, "d7") }),
    priceUsd: t.string({
      nullable: true,
      description: "tokens: as Token.priceUsd",
      resolve: (m) => m.priceUsd ?? null,
    }),
    marketCapUsd: t.string({
      nullable: true,
      description: "tokens: as Token.marketCapUsd",
      resolve: (m) => m.marketCapUsd ?? null,
    }),
    liquidityUsd: t.string({
      nullable: true,
      description: "tokens: the TVL of every pool trading it, summed; pools: the pool's TVL",
      resolve: (m) => m.liquidityUsd ?? null,
    }),
    holders: t.int({
      nullable: true,
      description: "tokens: as Token.holderCount",
      resolve: async (m, _a, ctx) =>
        m.kind === "token" ? ((await Token.getDataloader(ctx).load(m.entity))?.holderCount ?? null) : null,
    }),
  }),
});

/** Each entity's summary, or null for all of them before the pricing stage has priced a slot. */
async function summaries(ctx: RequestContext, kind: MarketKind, keys: string[]): Promise<(MarketShape | null)[]> {
  ctx.metrics.batchSize.observe({ loader: `${kind}.market` }, keys.length);
  const now = await pricedNow(ctx.reader);
  if (now == null) return keys.map(() => null);
  const windows = await marketWindows(ctx.reader, kind, keys, now);
  return windows.map((w) => ({ kind, entity: w.entity, asOf: now, windows: w.windows }));
}

builder.objectFields(Token, (t) => ({
  market: t.loadable({
    type: MarketSummary,
    nullable: true,
    description:
      "Price change, volume, trades, buys, sells and unique traders over 1 h / 24 h / 7 d, with price, " +
      "market cap, liquidity and holders; null before the pricing stage has priced a slot.",
    extensions: reads<TokenRecord>("mint"),
    load: async (mints: string[], ctx) => {
      const [base, prices, liquidity] = await Promise.all([
        summaries(ctx, "token", mints),
        latestTokenPrices(ctx.reader, mints, ctx.app.config.USD_STABLES ?? [USDC_MINT, USDT_MINT]),
        tokenLiquidity(ctx.reader, mints),
      ]);
      const price = new Map(prices.map((p) => [p.mint, p]));
      const liq = new Map(liquidity.map((l) => [l.mint, l.liquidityUsd]));
      return base.map((b) =>
        b == null
          ? null
          : {
              ...b,
              priceUsd: price.get(b.entity)?.priceUsd ?? null,
              marketCapUsd: price.get(b.entity)?.marketCapUsd ?? null,
              liquidityUsd: liq.get(b.entity) ?? null,
            },
      );
    },
    resolve: (tok) => tok.mint,
  }),
}));

const UsdCandle = builder.objectRef<UsdCandleRecord>("UsdCandle").implement({
  description:
    "One hourly or daily USD candle of a token across its pools: prices per whole token as the pricing stage set " +
    "them (each from the token's deepest qualifying pool at that slot), volume and trades from its rollups.",
  fields: (t) => ({
    start: t.field({ type: "DateTime", resolve: (c) => c.bucket }),
    open: t.exposeString("open", { nullable: true }),
    high: t.exposeString("high", { nullable: true }),
    low: t.exposeString("low", { nullable: true }),
    close: t.exposeString("close", { nullable: true }),
    volumeUsd: t.exposeString("volumeUsd"),
    trades: t.exposeInt("trades"),
  }),
});

/** The arguments of every bucketed field. */
const RANGE_ARGS = builder.args((t) => ({
  interval: t.field({ type: StatsInterval, required: true }),
  from: t.field({ type: "DateTime", description: "first bucket start (default: 24 hours or 30 days before `to`)" }),
  to: t.field({
    type: "DateTime",
    description: "end, exclusive (default: the end of the bucket holding the priced clock)",
  }),
}));

/** Each entity's buckets over the call's range, one statement for the batch. */
async function bucketsOf(ctx: RequestContext, kind: MarketKind, keys: string[], args: Range, field: string) {
  ctx.metrics.batchSize.observe({ loader: `${kind}.stats` }, keys.length);
  const range = await rangeOf(ctx, args, field);
  if (range == null) return keys.map(() => []);
  const rows = await marketBuckets(ctx.reader, kind, keys, INTERVAL[args.interval], range.from, range.to);
  return groupBy(keys, rows, (r) => r.entity);
}

builder.objectFields(Token, (t) => ({
  stats: t.loadableList({
    type: MarketBucket,
    description: "Hourly or daily buckets of the token's trades in [from, to), oldest first; empty buckets left out.",
    byPath: true,
    extensions: reads<TokenRecord>("mint"),
    args: RANGE_ARGS,
    load: (mints: string[], ctx, args) => bucketsOf(ctx, "token", mints, args, "stats"),
    resolve: (tok) => tok.mint,
  }),
  usdCandles: t.loadableList({
    type: UsdCandle,
    description: "USD candles in [from, to), oldest first; buckets with neither a price nor a trade are left out.",
    byPath: true,
    extensions: reads<TokenRecord>("mint"),
    args: RANGE_ARGS,
    load: async (mints: string[], ctx, args) => {
      ctx.metrics.batchSize.observe({ loader: "token.usdCandles" }, mints.length);
      const range = await rangeOf(ctx, args, "usdCandles");
      if (range == null) return mints.map(() => []);
      const rows = await usdCandles(ctx.reader, mints, INTERVAL[args.interval], range.from, range.to);
      return groupBy(mints, rows, (r) => r.mint);
    },
    resolve: (tok) => tok.mint,
  }),
}));

builder.objectFields(Pool, (t) => ({
  market: t.loadable({
    type: MarketSummary,
    nullable: true,
    description:
      "Volume (USD), swaps, buys, sells and unique traders over 1 h / 24 h / 7 d; null before the pricing stage has " +
      "priced a slot. Its TVL is tvlUsd.",
    extensions: reads<PoolRecord>("address"),
    load: (addresses: string[], ctx) => summaries(ctx, "pool", addresses),
    resolve: (p) => p.address,
  }),
  stats: t.loadableList({
    type: MarketBucket,
    description: "Hourly or daily buckets of the pool's swaps in [from, to), oldest first; empty buckets left out.",
    byPath: true,
    extensions: reads<PoolRecord>("address"),
    args: RANGE_ARGS,
    load: (addresses: string[], ctx, args) => bucketsOf(ctx, "pool", addresses, args, "stats"),
    resolve: (p) => p.address,
  }),
}));

builder.queryFields((t) => ({
  dexStats: t.field({
    type: [MarketBucket],
    description:
      "Hourly or daily volume (USD), swaps and unique traders per DEX in [from, to), oldest first (by DEX within a " +
      "bucket); `dex` narrows to one preset name.",
    args: { ...RANGE_ARGS, dex: t.arg.string() },
    resolve: async (_root, args, ctx) => {
      const range = await rangeOf(ctx, args, "dexStats");
      if (range == null) return [];
      return marketBuckets(
        ctx.reader,
        "dex",
        args.dex == null ? null : [args.dex],
        INTERVAL[args.interval],
        range.from,
        range.to,
      );
    },
  }),
}));

export const TokenRanking = builder.enumType("TokenRanking", {
  description:
    "A token ranking as the pricing stage last computed it (24 h: the 24 whole hours ending with the priced clock's).",
  values: [...TOKEN_RANKINGS],
});
export const PoolRanking = builder.enumType("PoolRanking", {
  description: "A pool ranking as the pricing stage last computed it.",
  values: [...POOL_RANKINGS],
});

const RANKING_ONLY = ["minLiquidityUsd", "createdAfter"] as const;

/**
 * A page of a ranking: the newest generation, or the cursor's, which stays fixed while newer ones are written (until
 * it is pruned or rewound: BAD_CURSOR then, start again).
 */
export async function fetchRanking(
  ctx: RequestContext,
  kind: "token" | "pool",
  ordering: string,
  where: (RankingWhere & Record<string, unknown>) | null | undefined,
  args: PageArgs,
  shared: readonly string[],
): Promise<Page<string>> {
  const other = Object.keys(where ?? {}).filter(
    (k) => where![k] != null && !shared.includes(k) && !(RANKING_ONLY as readonly string[]).includes(k),
  );
  if (other.length)
    throw apiError("BAD_USER_INPUT", `ranking: filter by ${RANKING_ONLY.join(", ")} or dex only, not ${other[0]}.`);
  if (args.last != null || args.before != null)
    throw apiError("BAD_USER_INPUT", "ranking: page forward with first and after.");
  const n = args.first ?? ctx.limits.defaultFirst;
  if (n < 0) throw apiError("BAD_USER_INPUT", "first must not be negative.");
  if (n > ctx.limits.maxFirst) throw apiError("FIRST_LIMIT", `first is limited to ${ctx.limits.maxFirst}.`);
  const name = `rank:${kind}:${ordering}`;
  let generation: number | null;
  let afterRank = 0;
  if (args.after) [generation, afterRank] = decodeCursor(args.after, name, ["int", "int"]).key as [number, number];
  else generation = await latestRanking(ctx.reader, kind);
  const empty: Page<string> = {
    edges: [],
    pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
    totalCount: async () => 0,
  };
  if (generation == null) return empty;
  const page = await rankingPage(ctx.reader, kind, ordering, generation, afterRank, n + 1, where);
  if (!page.exists)
    throw apiError("BAD_CURSOR", "Invalid cursor: its ranking is no longer kept; start again from the first page.");
  const edges = page.rows
    .slice(0, n)
    .map((r) => ({ cursor: encodeCursor(name, [generation, r.rank]), node: r.entity }));
  return {
    edges,
    pageInfo: {
      hasNextPage: page.rows.length > n,
      hasPreviousPage: afterRank > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: async () =>
      (await rankingPage(ctx.reader, kind, ordering, generation, 0, RANKING_COUNT_LIMIT, where)).rows.length,
  };
}
/** totalCount of a ranking counts at most this many rows. */
const RANKING_COUNT_LIMIT = 10_000;
