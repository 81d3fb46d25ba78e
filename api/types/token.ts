/** Token: a mint, with its pools and transfers as connections (batched across parents). */
import { builder } from "../builder.js";
import { formatUnits } from "../format.js";
import { fetchPages } from "../page.js";
import { POOLS, type PoolRow, poolFilters } from "../queries/pools.js";
import { TRANSFERS, type TransferRow, transferFilters } from "../queries/transfers.js";
import { sql } from "../sql.js";
import { ChainOrderInput, PoolOrderInput, PoolWhereInput, TokenProgramEnum, TransferWhereInput, resolveOrder } from "./inputs.js";
import { PoolConnection, Token, TransferConnection } from "./refs.js";

Token.implement({
  description: "An SPL Token or Token-2022 mint seen by the indexer.",
  fields: (t) => ({
    mint: t.exposeString("mint"),
    program: t.field({ type: TokenProgramEnum, resolve: (tok) => tok.program }),
    decimals: t.exposeInt("decimals", { nullable: true }),
    supply: t.expose("supply", { type: "BigInt", nullable: true }),
    supplyUi: t.string({
      nullable: true,
      description: "supply with decimals applied",
      resolve: (tok) => (tok.supply != null && tok.decimals != null ? formatUnits(tok.supply, tok.decimals) : null),
    }),
    symbol: t.exposeString("symbol", { nullable: true }),
    name: t.exposeString("name", { nullable: true }),
    uri: t.exposeString("uri", { nullable: true }),
    mintAuthority: t.exposeString("mintAuthority", { nullable: true }),
    freezeAuthority: t.exposeString("freezeAuthority", { nullable: true }),
    firstSeenSlot: t.exposeInt("firstSeenSlot"),
    updatedSlot: t.exposeInt("updatedSlot"),
    pools: t.loadable({
      type: PoolConnection,
      description: "Pools trading this token (either side).",
      byPath: true,
      args: { ...t.arg.connectionArgs(), where: t.arg({ type: PoolWhereInput }), orderBy: t.arg({ type: PoolOrderInput }) },
      load: (mints: string[], ctx, args) => {
        ctx.metrics.batchSize.observe({ loader: "token.pools" }, mints.length);
        const order = resolveOrder(POOLS, args.orderBy, { field: "LAST_SWAP_SLOT", desc: true });
        return fetchPages<PoolRow>(ctx.reader, POOLS, mints, (ref) => sql`(t.mint_a = ${ref} or t.mint_b = ${ref})`, poolFilters(args.where), order, args, ctx.limits);
      },
      resolve: (tok) => tok.mint,
    }),
    transfers: t.loadable({
      type: TransferConnection,
      description: "Transfers, mints and burns of this token, newest first by default.",
      byPath: true,
      args: { ...t.arg.connectionArgs(), where: t.arg({ type: TransferWhereInput }), orderBy: t.arg({ type: ChainOrderInput }) },
      load: (mints: string[], ctx, args) => {
        ctx.metrics.batchSize.observe({ loader: "token.transfers" }, mints.length);
        const order = resolveOrder(TRANSFERS, args.orderBy, { field: "SLOT", desc: true });
        return fetchPages<TransferRow>(ctx.reader, TRANSFERS, mints, (ref) => sql`t.mint = ${ref}`, transferFilters(args.where), order, args, ctx.limits);
      },
      resolve: (tok) => tok.mint,
    }),
  }),
});
