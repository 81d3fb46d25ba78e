/** Query: single lookups (through the loaders) and the root lists (keyset-paginated connections). */
import { builder } from "./builder.js";
import type { RequestContext } from "../context.js";
import { apiError } from "../errors.js";
import { PoolRanking, TokenRanking, fetchRanking } from "./market.js";
import { prefetchPool } from "./pool.js";
import { fetchSwapPage } from "./swap.js";
import { prefetchToken } from "./token.js";
import {
  POOLS,
  PROGRAM_EVENTS,
  type PoolRecord,
  type ProgramEventRecord,
  SWAPS,
  TOKENS,
  TRANSACTIONS,
  TRADES,
  TRANSFERS,
  type TokenRecord,
  type TradeRecord,
  type TransactionRecord,
  type TransferRecord,
  poolFilters,
  programEventFilters,
  swapFilters,
  tokenFilters,
  tradeFilters,
  transactionFilters,
  transferFilters,
} from "../queries/index.js";
import { type PageArgs, fetchPage } from "../sql/index.js";
import { pageFields } from "./reads.js";
import {
  ChainOrderInput,
  PoolOrderInput,
  PoolWhereInput,
  ProgramEventWhereInput,
  SwapWhereInput,
  TokenOrderInput,
  TokenWhereInput,
  TradeWhereInput,
  TransactionWhereInput,
  TransferWhereInput,
  resolveOrder,
} from "./inputs.js";
import {
  Account,
  Pool,
  PoolConnection,
  ProgramEventConnection,
  SwapConnection,
  Token,
  TokenAccount,
  TokenConnection,
  TradeConnection,
  Transaction,
  TransactionConnection,
  TransferConnection,
} from "./refs.js";

/** A ranking's page (the market filters apply only to rankings). */
function rankedPage(
  ctx: RequestContext,
  kind: "token" | "pool",
  ranking: string,
  orderBy: unknown,
  where: Record<string, unknown> | null | undefined,
  args: PageArgs,
  shared: string[],
) {
  if (orderBy != null) throw apiError("BAD_USER_INPUT", "Pass either ranking or orderBy, not both.");
  return fetchRanking(ctx, kind, ranking, where as Parameters<typeof fetchRanking>[3], args, shared);
}

/** Refuses the ranking-only filters on a plain list. */
function plainWhere<W extends { minLiquidityUsd?: unknown; createdAfter?: unknown; dex?: unknown } | null | undefined>(
  w: W,
  kind: "token" | "pool",
): W {
  if (w?.minLiquidityUsd != null || w?.createdAfter != null || (kind === "token" && w?.dex != null))
    throw apiError(
      "BAD_USER_INPUT",
      "minLiquidityUsd, createdAfter (and dex on tokens) filter a ranking: pass ranking.",
    );
  return w;
}

const NEWEST_FIRST = { field: "SLOT", desc: true };

builder.queryType({
  description: "Read-only access to what the indexer stored.",
  fields: (t) => ({
    token: t.field({
      type: Token,
      nullable: true,
      args: { mint: t.arg.string({ required: true }) },
      resolve: (_r, a, ctx, info) => {
        prefetchToken(ctx, info, a.mint);
        return a.mint;
      },
    }),
    tokens: t.field({
      type: TokenConnection,
      args: {
        ...t.arg.connectionArgs(),
        where: t.arg({ type: TokenWhereInput }),
        orderBy: t.arg({ type: TokenOrderInput }),
        ranking: t.arg({
          type: TokenRanking,
          description: "a market ranking instead of orderBy; its pages stay on one computed ranking (see docs)",
        }),
      },
      resolve: (_r, args, ctx, info) =>
        args.ranking != null
          ? rankedPage(ctx, "token", args.ranking, args.orderBy, args.where, args, ["dex"])
          : fetchPage<TokenRecord>(
              ctx.reader,
              TOKENS,
              tokenFilters(plainWhere(args.where, "token")),
              resolveOrder(TOKENS, args.orderBy, { field: "FIRST_SEEN_SLOT", desc: true }),
              args,
              ctx.limits,
              pageFields(info, "Token"),
            ),
    }),
    pool: t.field({
      type: Pool,
      nullable: true,
      args: { address: t.arg.string({ required: true }) },
      resolve: (_r, a, ctx, info) => {
        prefetchPool(ctx, info, a.address);
        return a.address;
      },
    }),
    pools: t.field({
      type: PoolConnection,
      args: {
        ...t.arg.connectionArgs(),
        where: t.arg({ type: PoolWhereInput }),
        orderBy: t.arg({ type: PoolOrderInput }),
        ranking: t.arg({
          type: PoolRanking,
          description: "a market ranking instead of orderBy; its pages stay on one computed ranking (see docs)",
        }),
      },
      resolve: (_r, args, ctx, info) =>
        args.ranking != null
          ? rankedPage(ctx, "pool", args.ranking, args.orderBy, args.where, args, ["dex"])
          : fetchPage<PoolRecord>(
              ctx.reader,
              POOLS,
              poolFilters(plainWhere(args.where, "pool")),
              resolveOrder(POOLS, args.orderBy, { field: "LAST_SWAP_SLOT", desc: true }),
              args,
              ctx.limits,
              pageFields(info, "Pool"),
            ),
    }),
    swaps: t.field({
      type: SwapConnection,
      args: {
        ...t.arg.connectionArgs(),
        where: t.arg({ type: SwapWhereInput }),
        orderBy: t.arg({ type: ChainOrderInput }),
      },
      resolve: (_r, args, ctx, info) => {
        const filters = swapFilters(args.where);
        const order = resolveOrder(SWAPS, args.orderBy, NEWEST_FIRST);
        return fetchSwapPage(ctx, info, filters, order, args);
      },
    }),
    transfers: t.field({
      type: TransferConnection,
      args: {
        ...t.arg.connectionArgs(),
        where: t.arg({ type: TransferWhereInput }),
        orderBy: t.arg({ type: ChainOrderInput }),
      },
      resolve: (_r, args, ctx, info) =>
        fetchPage<TransferRecord>(
          ctx.reader,
          TRANSFERS,
          transferFilters(args.where),
          resolveOrder(TRANSFERS, args.orderBy, NEWEST_FIRST),
          args,
          ctx.limits,
          pageFields(info, "Transfer"),
        ),
    }),
    trades: t.field({
      type: TradeConnection,
      description: "Wallets' trades (sold one token, bought another), newest first by default.",
      args: {
        ...t.arg.connectionArgs(),
        where: t.arg({ type: TradeWhereInput }),
        orderBy: t.arg({ type: ChainOrderInput }),
      },
      resolve: (_r, args, ctx, info) =>
        fetchPage<TradeRecord>(
          ctx.reader,
          TRADES,
          tradeFilters(args.where),
          resolveOrder(TRADES, args.orderBy, NEWEST_FIRST),
          args,
          ctx.limits,
          pageFields(info, "Trade"),
        ),
    }),
    transaction: t.field({
      type: Transaction,
      nullable: true,
      args: { signature: t.arg.string({ required: true }) },
      resolve: (_r, a) => a.signature,
    }),
    transactions: t.field({
      type: TransactionConnection,
      args: {
        ...t.arg.connectionArgs(),
        where: t.arg({ type: TransactionWhereInput }),
        orderBy: t.arg({ type: ChainOrderInput }),
      },
      resolve: (_r, args, ctx) =>
        fetchPage<TransactionRecord>(
          ctx.reader,
          TRANSACTIONS,
          transactionFilters(args.where),
          resolveOrder(TRANSACTIONS, args.orderBy, NEWEST_FIRST),
          args,
          ctx.limits,
        ),
    }),
    programEvents: t.field({
      type: ProgramEventConnection,
      args: {
        ...t.arg.connectionArgs(),
        where: t.arg({ type: ProgramEventWhereInput }),
        orderBy: t.arg({ type: ChainOrderInput }),
      },
      resolve: (_r, args, ctx) =>
        fetchPage<ProgramEventRecord>(
          ctx.reader,
          PROGRAM_EVENTS,
          programEventFilters(args.where),
          resolveOrder(PROGRAM_EVENTS, args.orderBy, NEWEST_FIRST),
          args,
          ctx.limits,
        ),
    }),
    tokenAccount: t.field({
      type: TokenAccount,
      nullable: true,
      description: "A token account's latest state (null: no stored transaction or snapshot touched it).",
      args: { address: t.arg.string({ required: true }) },
      resolve: (_r, a) => a.address,
    }),
    account: t.field({
      type: Account,
      args: { address: t.arg.string({ required: true }) },
      resolve: (_r, a) => ({ address: a.address }),
    }),
  }),
});
