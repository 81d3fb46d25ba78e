/** Token: a mint, with its pools and transfers as connections (batched across parents). */
import type { GraphQLResolveInfo } from "graphql";
import { builder } from "./builder.js";
import type { RequestContext } from "../context.js";
import { formatUnits } from "./format.js";
import { USDC_MINT, USDT_MINT } from "../../core/presets.js";
import {
  POOLS,
  type PoolRecord,
  TRANSFERS,
  type TokenRecord,
  type TransferRecord,
  latestTokenPrices,
  poolFilters,
  transferFilters,
} from "../queries/index.js";
import { type NodeFields, type PageArgs, fetchPages, selectedChildren, sql } from "../sql/index.js";
import {
  ChainOrderInput,
  PoolOrderInput,
  PoolWhereInput,
  TokenProgramEnum,
  TransferWhereInput,
  resolveOrder,
} from "./inputs.js";
import { HolderOrderEnum, holdersOf } from "./holding.js";
import { pageFields, reads } from "./reads.js";
import { HoldingConnection, PoolConnection, Token, TransferConnection } from "./refs.js";

type PoolsArgs = PageArgs & { where?: Parameters<typeof poolFilters>[0]; orderBy?: Parameters<typeof resolveOrder>[1] };
type TransfersArgs = PageArgs & {
  where?: Parameters<typeof transferFilters>[0];
  orderBy?: Parameters<typeof resolveOrder>[1];
};

/** The first page of pools trading each mint (either side), in one statement. */
function poolsOf(ctx: RequestContext, mints: readonly string[], args: PoolsArgs, fields: NodeFields) {
  const order = resolveOrder(POOLS, args.orderBy, { field: "LAST_SWAP_SLOT", desc: true });
  return fetchPages<PoolRecord>(
    ctx.reader,
    POOLS,
    mints,
    (ref) => sql`(t.mint_a = ${ref} or t.mint_b = ${ref})`,
    poolFilters(args.where),
    order,
    args,
    ctx.limits,
    fields,
  );
}

/** The first page of each mint's transfers, in one statement. */
function transfersOf(ctx: RequestContext, mints: readonly string[], args: TransfersArgs, fields: NodeFields) {
  const order = resolveOrder(TRANSFERS, args.orderBy, { field: "SLOT", desc: true });
  return fetchPages<TransferRecord>(
    ctx.reader,
    TRANSFERS,
    mints,
    (ref) => sql`t.mint = ${ref}`,
    transferFilters(args.where),
    order,
    args,
    ctx.limits,
    fields,
  );
}

/** Each mint's price or market cap, in one statement per list (a stablecoin from USD_STABLES is worth 1). */
async function pricesOf(ctx: RequestContext, mints: string[], field: "priceUsd" | "marketCapUsd") {
  ctx.metrics.batchSize.observe({ loader: `token.${field}` }, mints.length);
  const rows = await latestTokenPrices(ctx.reader, mints, ctx.app.config.USD_STABLES ?? [USDC_MINT, USDT_MINT]);
  const by = new Map(rows.map((r) => [r.mint, r[field]]));
  return mints.map((m) => by.get(m) ?? null);
}

const PREFETCHED = new Set(["pools", "transfers", "holders"]);

/** Starts the reads of `token(mint)`'s selected pools, transfers and holders, to go out with the token lookup itself. */
export function prefetchToken(ctx: RequestContext, info: GraphQLResolveInfo, mint: string): void {
  for (const c of selectedChildren(info, PREFETCHED)) {
    // A rejection here is the child field's own error, reported when it runs.
    const child = { fieldNodes: [c.node], fragments: info.fragments, schema: info.schema };
    const p =
      c.name === "pools"
        ? poolsOf(ctx, [mint], c.args as PoolsArgs, pageFields(child, "Pool"))
        : c.name === "transfers"
          ? transfersOf(ctx, [mint], c.args as TransfersArgs, pageFields(child, "Transfer"))
          : holdersOf(ctx, [mint], c.args as PageArgs, pageFields(child, "Holding"));
    p.catch(() => {});
  }
}

Token.implement({
  description: "An SPL Token or Token-2022 mint seen by the indexer.",
  fields: (t) => ({
    mint: t.exposeString("mint"),
    program: t.expose("program", { type: TokenProgramEnum }),
    decimals: t.exposeInt("decimals", { nullable: true }),
    supply: t.expose("supply", {
      type: "BigInt",
      nullable: true,
      description: "the supply read at supplySlot plus the mints less the burns stored after it",
    }),
    supplySlot: t.exposeInt("supplySlot", { nullable: true, description: "the slot the supply was read at" }),
    supplyUi: t.string({
      nullable: true,
      description: "supply with decimals applied",
      extensions: reads<TokenRecord>("supply", "decimals"),
      resolve: (tok) => (tok.supply != null && tok.decimals != null ? formatUnits(tok.supply, tok.decimals) : null),
    }),
    symbol: t.exposeString("symbol", { nullable: true }),
    name: t.exposeString("name", { nullable: true }),
    uri: t.exposeString("uri", { nullable: true }),
    mintAuthority: t.exposeString("mintAuthority", { nullable: true }),
    freezeAuthority: t.exposeString("freezeAuthority", { nullable: true }),
    holderCount: t.exposeInt("holderCount", {
      description: "owners holding more than 0 (all their token accounts of this mint together)",
    }),
    priceUsd: t.loadable({
      type: "String",
      nullable: true,
      description:
        "USD per whole token as a decimal string: 1 for a configured stablecoin (USD_STABLES), else the price its " +
        "deepest pool against SOL or a stablecoin above PRICE_MIN_LIQUIDITY_USD set, as of the last slot the pricing " +
        "stage saw one of its pools move; null without such a pool or while its decimals are unknown",
      extensions: reads<TokenRecord>("mint"),
      load: (mints: string[], ctx) => pricesOf(ctx, mints, "priceUsd"),
      resolve: (tok) => tok.mint,
    }),
    marketCapUsd: t.loadable({
      type: "String",
      nullable: true,
      description:
        "the exact supply times priceUsd, as a decimal string; null while either is unknown (see supply, priceUsd)",
      extensions: reads<TokenRecord>("mint"),
      load: (mints: string[], ctx) => pricesOf(ctx, mints, "marketCapUsd"),
      resolve: (tok) => tok.mint,
    }),
    firstSeenSlot: t.exposeInt("firstSeenSlot"),
    updatedSlot: t.exposeInt("updatedSlot"),
    pools: t.loadable({
      type: PoolConnection,
      description: "Pools trading this token (either side).",
      byPath: true,
      extensions: reads<TokenRecord>("mint"),
      args: {
        ...t.arg.connectionArgs(),
        where: t.arg({ type: PoolWhereInput }),
        orderBy: t.arg({ type: PoolOrderInput }),
      },
      load: (mints: string[], ctx, args, info) => {
        ctx.metrics.batchSize.observe({ loader: "token.pools" }, mints.length);
        return poolsOf(ctx, mints, args, pageFields(info, "Pool"));
      },
      resolve: (tok) => tok.mint,
    }),
    holders: t.loadable({
      type: HoldingConnection,
      description: "Owners holding this token, largest balance first (equal balances by owner).",
      byPath: true,
      extensions: reads<TokenRecord>("mint"),
      args: {
        ...t.arg.connectionArgs(),
        orderBy: t.arg({ type: HolderOrderEnum, defaultValue: "BALANCE_DESC" }),
      },
      load: (mints: string[], ctx, args, info) => {
        ctx.metrics.batchSize.observe({ loader: "token.holders" }, mints.length);
        return holdersOf(ctx, mints, args, pageFields(info, "Holding"));
      },
      resolve: (tok) => tok.mint,
    }),
    transfers: t.loadable({
      type: TransferConnection,
      description: "Transfers, mints and burns of this token, newest first by default.",
      byPath: true,
      extensions: reads<TokenRecord>("mint"),
      args: {
        ...t.arg.connectionArgs(),
        where: t.arg({ type: TransferWhereInput }),
        orderBy: t.arg({ type: ChainOrderInput }),
      },
      load: (mints: string[], ctx, args, info) => {
        ctx.metrics.batchSize.observe({ loader: "token.transfers" }, mints.length);
        return transfersOf(ctx, mints, args, pageFields(info, "Transfer"));
      },
      resolve: (tok) => tok.mint,
    }),
  }),
});
