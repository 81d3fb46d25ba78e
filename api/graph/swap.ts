/** Swap: one swap instruction, from the pool's side (amountIn is what its vault received). */
import type { GraphQLResolveInfo } from "graphql";
import { builder } from "./builder.js";
import type { RequestContext } from "../context.js";
import { formatUnits } from "./format.js";
import { type PoolRecord, SWAPS, type SwapRecord, poolsOfRows } from "../queries/index.js";
import {
  type Fragment,
  type Order,
  type Page,
  type PageArgs,
  fetchPage,
  pageSubquery,
  selectsPath,
} from "../sql/index.js";
import { pageFields, reads } from "./reads.js";
import { Pool, Swap, Token, Transaction } from "./refs.js";

/** `raw` with the decimals of `mint` applied, through the token loader (null when unknown). */
export async function uiAmount(ctx: RequestContext, mint: string, raw: string): Promise<string | null> {
  const tok = await Token.getDataloader(ctx).load(mint);
  return tok?.decimals == null ? null : formatUnits(raw, tok.decimals);
}

const POOL_PATH = ["edges", "node", "pool"];

/**
 * A page of swaps filtered by `filters`. When the selection reaches `edges.node.pool`, those pools are read in the
 * same batch as the page (over the page's rows as a subquery) and primed into the Pool loader, a stored-nowhere pool
 * as null, so they cost no second round trip.
 * @dev the page is answered once the prefetch has settled: the pipelined read path answers a batch's statements
 * together, the plain one each on its own, and in either the loader must be primed before the page's resolvers run.
 */
export async function fetchSwapPage(
  ctx: RequestContext,
  info: GraphQLResolveInfo,
  filters: Fragment[],
  order: Order,
  args: PageArgs,
): Promise<Page<SwapRecord>> {
  const [, page] = await Promise.all([
    prefetchPools(ctx, info, filters, order, args),
    fetchPage<SwapRecord>(ctx.reader, SWAPS, filters, order, args, ctx.limits, pageFields(info, "Swap")),
  ]);
  return page;
}

/** Primes the Pool loader with the pools of the page's rows, when the selection reads them; never rejects. */
function prefetchPools(
  ctx: RequestContext,
  info: GraphQLResolveInfo,
  filters: Fragment[],
  order: Order,
  args: PageArgs,
): Promise<void> {
  if (!selectsPath(info, POOL_PATH)) return Promise.resolve();
  let rows: Fragment;
  try {
    rows = pageSubquery(SWAPS, filters, order, args, ctx.limits, "t.pool");
  } catch {
    return Promise.resolve(); // bad page arguments: the page's own read reports them
  }
  return poolsOfRows(ctx.reader, rows).then(
    (found) => {
      const loader = Pool.getDataloader(ctx);
      for (const { key, ...pool } of found) loader.prime(key, (pool.address == null ? null : pool) as PoolRecord);
    },
    () => {}, // the loader reads them itself
  );
}

Swap.implement({
  description: "A swap through a DEX pool, measured from the pool vaults' own token movements.",
  fields: (t) => ({
    signature: t.exposeString("signature"),
    instructionPath: t.exposeString("instructionPath", {
      description: "`2` = top-level instruction 2, `2.1` its first inner instruction",
    }),
    slot: t.exposeInt("slot"),
    blockTime: t.expose("blockTime", { type: "DateTime", nullable: true }),
    pool: t.field({ type: Pool, nullable: true, resolve: (s) => s.pool }),
    poolAddress: t.exposeString("pool"),
    dex: t.string({
      extensions: reads<SwapRecord>("dex", "pool"),
      resolve: async (s, _a, ctx) => s.dex ?? (await Pool.getDataloader(ctx).load(s.pool))?.dex ?? "unknown",
    }),
    trader: t.exposeString("trader"),
    tokenIn: t.field({
      type: Token,
      nullable: true,
      extensions: reads<SwapRecord>("mintIn"),
      resolve: (s) => s.mintIn,
    }),
    tokenOut: t.field({
      type: Token,
      nullable: true,
      extensions: reads<SwapRecord>("mintOut"),
      resolve: (s) => s.mintOut,
    }),
    mintIn: t.exposeString("mintIn"),
    mintOut: t.exposeString("mintOut"),
    amountIn: t.expose("amountIn", { type: "BigInt" }),
    amountOut: t.expose("amountOut", { type: "BigInt" }),
    amountInUi: t.string({
      nullable: true,
      extensions: reads<SwapRecord>("mintIn", "amountIn"),
      resolve: (s, _a, ctx) => uiAmount(ctx, s.mintIn, s.amountIn),
    }),
    amountOutUi: t.string({
      nullable: true,
      extensions: reads<SwapRecord>("mintOut", "amountOut"),
      resolve: (s, _a, ctx) => uiAmount(ctx, s.mintOut, s.amountOut),
    }),
    valueUsd: t.exposeString("valueUsd", {
      nullable: true,
      description:
        "USD value as a decimal string: the stablecoin side at 1 USD, else the SOL side, else a priced side, at " +
        "prices as of the swap's slot; null until the pricing stage (behind the resume point) reaches the slot, or " +
        "when neither side has a price",
    }),
    transaction: t.field({
      type: Transaction,
      nullable: true,
      extensions: reads<SwapRecord>("signature"),
      resolve: (s) => s.signature,
    }),
  }),
});
