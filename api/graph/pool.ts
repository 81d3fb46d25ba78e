/** Pool: reserves and price, volume windows, OHLCV candles, and its swaps and liquidity events as connections. */
import type { GraphQLResolveInfo } from "graphql";
import { builder } from "./builder.js";
import type { RequestContext } from "../context.js";
import { apiError } from "../errors.js";
import { formatUnits, reservePrice, trimDecimal } from "./format.js";
import {
  LIQUIDITY,
  type LiquidityEventRecord,
  type PoolRecord,
  SWAPS,
  type SwapRecord,
  candles,
  groupBy,
  latestPoolTvl,
  swapFilters,
  volumes,
} from "../queries/index.js";
import { type NodeFields, type PageArgs, fetchPages, selectedChildren, sql } from "../sql/index.js";
import { ChainOrderInput, SwapWhereInput, resolveOrder } from "./inputs.js";
import { pageFields, reads } from "./reads.js";
import { Candle, LiquidityEventConnection, Pool, PoolVolume, SwapConnection, Token } from "./refs.js";

const WINDOW_SECONDS = { H1: 3_600, H24: 86_400, D7: 604_800 } as const;
const INTERVAL_SECONDS = { M1: 60, M5: 300, H1: 3_600, D1: 86_400 } as const;
/** Most buckets one candles() call may span. */
export const MAX_CANDLE_BUCKETS = 5_000;

export const VolumeWindow = builder.enumType("VolumeWindow", { values: ["H1", "H24", "D7"] as const });
export const CandleInterval = builder.enumType("CandleInterval", { values: ["M1", "M5", "H1", "D1"] as const });

/** Decimals of a mint through the token loader (null if the mint or its decimals are unknown). */
async function decimalsOf(ctx: RequestContext, mint: string): Promise<number | null> {
  const tok = await Token.getDataloader(ctx).load(mint);
  return tok?.decimals ?? null;
}

/** The end of a window when the client gives none: the newest indexed block time (chain clock), else now. */
async function windowEnd(ctx: RequestContext, to: Date | null | undefined): Promise<Date> {
  return to ?? (await ctx.chainNow()) ?? new Date();
}

type SwapsArgs = PageArgs & { where?: Parameters<typeof swapFilters>[0]; orderBy?: Parameters<typeof resolveOrder>[1] };

/** The first page of each pool's swaps, in one statement. */
function swapsOf(ctx: RequestContext, addresses: readonly string[], args: SwapsArgs, fields: NodeFields) {
  const order = resolveOrder(SWAPS, args.orderBy, { field: "SLOT", desc: true });
  return fetchPages<SwapRecord>(
    ctx.reader,
    SWAPS,
    addresses,
    (ref) => sql`t.pool = ${ref}`,
    swapFilters(args.where),
    order,
    args,
    ctx.limits,
    fields,
  );
}

const PREFETCHED = new Set(["swaps", "candles", "volume"]);

/**
 * Starts the reads of `pool(address)`'s selected swaps, and the chain clock when candles or volume default to it,
 * to go out with the pool lookup itself.
 */
export function prefetchPool(ctx: RequestContext, info: GraphQLResolveInfo, address: string): void {
  for (const c of selectedChildren(info, PREFETCHED)) {
    // A rejection here is the child field's own error, reported when it runs.
    if (c.name === "swaps")
      swapsOf(
        ctx,
        [address],
        c.args as SwapsArgs,
        pageFields({ fieldNodes: [c.node], fragments: info.fragments, schema: info.schema }, "Swap"),
      ).catch(() => {});
    else if (c.name === "candles" ? c.args.to == null : c.args.until == null) ctx.chainNow().catch(() => {});
  }
}

Pool.implement({
  description: "A DEX pool. Token A and B are the pool's own mint order.",
  fields: (t) => ({
    address: t.exposeString("address"),
    dex: t.exposeString("dex"),
    programId: t.exposeString("programId"),
    tokenA: t.field({ type: Token, nullable: true, extensions: reads<PoolRecord>("mintA"), resolve: (p) => p.mintA }),
    tokenB: t.field({ type: Token, nullable: true, extensions: reads<PoolRecord>("mintB"), resolve: (p) => p.mintB }),
    mintA: t.exposeString("mintA"),
    mintB: t.exposeString("mintB"),
    vaultA: t.exposeString("vaultA"),
    vaultB: t.exposeString("vaultB"),
    reserveA: t.expose("reserveA", { type: "BigInt", nullable: true }),
    reserveB: t.expose("reserveB", { type: "BigInt", nullable: true }),
    reservesSlot: t.exposeInt("reservesSlot", { nullable: true }),
    price: t.string({
      nullable: true,
      description: "Token B per token A from the reserves, decimals applied, as a decimal string.",
      extensions: reads<PoolRecord>("reserveA", "reserveB", "mintA", "mintB"),
      resolve: async (p, _args, ctx) => {
        if (p.reserveA == null || p.reserveB == null) return null;
        const [da, db] = await Promise.all([decimalsOf(ctx, p.mintA), decimalsOf(ctx, p.mintB)]);
        return da == null || db == null ? null : reservePrice(p.reserveA, p.reserveB, da, db);
      },
    }),
    createdSlot: t.exposeInt("createdSlot", { nullable: true }),
    firstSeenSlot: t.exposeInt("firstSeenSlot"),
    lastSwapSlot: t.exposeInt("lastSwapSlot", { nullable: true }),
    tvlUsd: t.loadable({
      type: "String",
      nullable: true,
      description:
        "USD value of the reserves as a decimal string, as of the last slot the pricing stage saw the pool move: both " +
        "sides at their prices, twice the one priced side, null when neither side has a price",
      extensions: reads<PoolRecord>("address"),
      load: async (addresses: string[], ctx) => {
        ctx.metrics.batchSize.observe({ loader: "pool.tvlUsd" }, addresses.length);
        const rows = await latestPoolTvl(ctx.reader, addresses);
        const by = new Map(rows.map((r) => [r.pool, r.tvlUsd]));
        return addresses.map((a) => by.get(a) ?? null);
      },
      resolve: (p) => p.address,
    }),
    volume: t.loadable({
      type: PoolVolume,
      description: "Swap volume over the window ending at `until` (default: the newest indexed block time).",
      byPath: true,
      extensions: reads<PoolRecord>("address"),
      args: { window: t.arg({ type: VolumeWindow, required: true }), until: t.arg({ type: "DateTime" }) },
      load: async (addresses: string[], ctx, args) => {
        ctx.metrics.batchSize.observe({ loader: "pool.volume" }, addresses.length);
        const to = await windowEnd(ctx, args.until);
        const from = new Date(to.getTime() - WINDOW_SECONDS[args.window] * 1000);
        const rows = await volumes(ctx.reader, addresses, from, to);
        const by = new Map(rows.map((r) => [r.pool, r]));
        return addresses.map((a) => {
          const r = by.get(a) ?? { swaps: 0, volumeA: "0", volumeB: "0" };
          return { window: args.window, from, to, swaps: r.swaps, volumeA: r.volumeA, volumeB: r.volumeB, pool: a };
        });
      },
      resolve: (p) => p.address,
    }),
    candles: t.loadableList({
      type: Candle,
      description:
        "OHLCV buckets of the pool's swaps in [from, to) (default: the 24 hours before the newest block); empty buckets are left out.",
      byPath: true,
      extensions: reads<PoolRecord>("address"),
      args: {
        interval: t.arg({ type: CandleInterval, required: true }),
        from: t.arg({ type: "DateTime" }),
        to: t.arg({ type: "DateTime" }),
      },
      load: async (addresses: string[], ctx, args) => {
        ctx.metrics.batchSize.observe({ loader: "pool.candles" }, addresses.length);
        const seconds = INTERVAL_SECONDS[args.interval];
        const to = args.to ?? new Date((await windowEnd(ctx, null)).getTime() + 1000);
        const from = args.from ?? new Date(to.getTime() - 86_400_000);
        if (to <= from) throw apiError("BAD_USER_INPUT", "candles: `from` must be before `to`.");
        if ((to.getTime() - from.getTime()) / 1000 / seconds > MAX_CANDLE_BUCKETS)
          throw apiError(
            "BAD_USER_INPUT",
            `candles: at most ${MAX_CANDLE_BUCKETS} buckets per call; use a wider interval or a shorter range.`,
          );
        return groupBy(addresses, await candles(ctx.reader, addresses, seconds, from, to), (r) => r.pool);
      },
      resolve: (p) => p.address,
    }),
    swaps: t.loadable({
      type: SwapConnection,
      description: "The pool's swaps, newest first by default.",
      byPath: true,
      extensions: reads<PoolRecord>("address"),
      args: {
        ...t.arg.connectionArgs(),
        where: t.arg({ type: SwapWhereInput }),
        orderBy: t.arg({ type: ChainOrderInput }),
      },
      load: (addresses: string[], ctx, args, info) => {
        ctx.metrics.batchSize.observe({ loader: "pool.swaps" }, addresses.length);
        return swapsOf(ctx, addresses, args, pageFields(info, "Swap"));
      },
      resolve: (p) => p.address,
    }),
    liquidityEvents: t.loadable({
      type: LiquidityEventConnection,
      description: "Liquidity added and removed, newest first by default.",
      byPath: true,
      extensions: reads<PoolRecord>("address"),
      args: { ...t.arg.connectionArgs(), orderBy: t.arg({ type: ChainOrderInput }) },
      load: (addresses: string[], ctx, args) => {
        ctx.metrics.batchSize.observe({ loader: "pool.liquidityEvents" }, addresses.length);
        const order = resolveOrder(LIQUIDITY, args.orderBy, { field: "SLOT", desc: true });
        return fetchPages<LiquidityEventRecord>(
          ctx.reader,
          LIQUIDITY,
          addresses,
          (ref) => sql`t.pool = ${ref}`,
          [],
          order,
          args,
          ctx.limits,
        );
      },
      resolve: (p) => p.address,
    }),
  }),
});

PoolVolume.implement({
  description: "Swap volume of a pool over a window: token A and token B amounts, in and out.",
  fields: (t) => ({
    window: t.exposeString("window"),
    from: t.expose("from", { type: "DateTime" }),
    to: t.expose("to", { type: "DateTime" }),
    swaps: t.exposeInt("swaps"),
    volumeA: t.expose("volumeA", { type: "BigInt" }),
    volumeB: t.expose("volumeB", { type: "BigInt" }),
    volumeAUi: t.string({
      nullable: true,
      resolve: async (v, _a, ctx) => ui(v.volumeA, await decimalsOf(ctx, await mintOf(ctx, v.pool, "A"))),
    }),
    volumeBUi: t.string({
      nullable: true,
      resolve: async (v, _a, ctx) => ui(v.volumeB, await decimalsOf(ctx, await mintOf(ctx, v.pool, "B"))),
    }),
  }),
});

function ui(raw: string, decimals: number | null): string | null {
  return decimals == null ? null : formatUnits(raw, decimals);
}

async function mintOf(ctx: RequestContext, pool: PoolRecord | string, side: "A" | "B"): Promise<string> {
  const p = typeof pool === "string" ? await Pool.getDataloader(ctx).load(pool) : pool;
  return side === "A" ? p!.mintA : p!.mintB;
}

Candle.implement({
  description: "One OHLCV bucket; prices are token B per token A, decimals applied, as decimal strings.",
  fields: (t) => ({
    start: t.field({ type: "DateTime", resolve: (c) => c.bucket }),
    open: t.string({ nullable: true, resolve: (c) => trimDecimal(c.open) }),
    high: t.string({ nullable: true, resolve: (c) => trimDecimal(c.high) }),
    low: t.string({ nullable: true, resolve: (c) => trimDecimal(c.low) }),
    close: t.string({ nullable: true, resolve: (c) => trimDecimal(c.close) }),
    volumeA: t.expose("volumeA", { type: "BigInt" }),
    volumeB: t.expose("volumeB", { type: "BigInt" }),
    swaps: t.exposeInt("swaps"),
  }),
});
