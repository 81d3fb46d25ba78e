/**
 * Account: one address as a wallet: its SOL and token balances and token accounts (batched across parents), its swaps
 * (as trader) and transfers (as token account or owner, either side).
 */
import { builder } from "./builder.js";
import { formatUnits } from "./format.js";
import {
  SWAPS,
  TRANSFERS,
  type TransferRecord,
  involves,
  swapFilters,
  transferFilters,
  walletsByAddress,
} from "../queries/index.js";
import { fetchPage, sql } from "../sql/index.js";
import { balancesOf, TokenAccountWhereInput, tokenAccountsOf } from "./holding.js";
import { ChainOrderInput, SwapWhereInput, TransferWhereInput, resolveOrder } from "./inputs.js";
import { Account, HoldingConnection, SwapConnection, TokenAccountConnection, TransferConnection } from "./refs.js";
import { pageFields } from "./reads.js";
import { fetchSwapPage } from "./swap.js";

/** Lamports in a SOL. */
const SOL_DECIMALS = 9;

Account.implement({
  description: "One address: a wallet's balances and activity.",
  fields: (t) => ({
    address: t.exposeString("address"),
    solBalance: t.loadable({
      type: "BigInt",
      nullable: true,
      description: "Lamports as of the latest stored transaction this address signed (null: it signed none stored).",
      load: async (addresses: string[], ctx) => {
        const rows = await walletsByAddress(ctx.reader, addresses);
        const byAddress = new Map(rows.map((w) => [w.address, w.lamports]));
        return addresses.map((a) => byAddress.get(a) ?? null);
      },
      resolve: (a) => a.address,
    }),
    solBalanceUi: t.loadable({
      type: "String",
      nullable: true,
      description: "solBalance in SOL (9 decimals), exact.",
      load: async (addresses: string[], ctx) => {
        const rows = await walletsByAddress(ctx.reader, addresses);
        const byAddress = new Map(rows.map((w) => [w.address, formatUnits(w.lamports, SOL_DECIMALS)]));
        return addresses.map((a) => byAddress.get(a) ?? null);
      },
      resolve: (a) => a.address,
    }),
    balances: t.loadable({
      type: HoldingConnection,
      description: "What this address holds as owner, per mint (positive balances, by mint).",
      byPath: true,
      args: { ...t.arg.connectionArgs() },
      load: (owners: string[], ctx, args, info) => {
        ctx.metrics.batchSize.observe({ loader: "account.balances" }, owners.length);
        return balancesOf(ctx, owners, args, pageFields(info, "Holding"));
      },
      resolve: (a) => a.address,
    }),
    tokenAccounts: t.loadable({
      type: TokenAccountConnection,
      description: "Token accounts this address owns (open ones unless `where.closed`), by mint then address.",
      byPath: true,
      args: { ...t.arg.connectionArgs(), where: t.arg({ type: TokenAccountWhereInput }) },
      load: (owners: string[], ctx, args, info) => {
        ctx.metrics.batchSize.observe({ loader: "account.tokenAccounts" }, owners.length);
        return tokenAccountsOf(ctx, owners, args, pageFields(info, "TokenAccount"));
      },
      resolve: (a) => a.address,
    }),
    swaps: t.field({
      type: SwapConnection,
      description: "Swaps this address made (as trader), newest first by default.",
      args: {
        ...t.arg.connectionArgs(),
        where: t.arg({ type: SwapWhereInput }),
        orderBy: t.arg({ type: ChainOrderInput }),
      },
      resolve: (a, args, ctx, info) => {
        const filters = [sql`t.trader = ${a.address}`, ...swapFilters(args.where)];
        const order = resolveOrder(SWAPS, args.orderBy, { field: "SLOT", desc: true });
        return fetchSwapPage(ctx, info, filters, order, args);
      },
    }),
    transfers: t.field({
      type: TransferConnection,
      description: "Token movements into or out of this address (as token account or owner), newest first by default.",
      args: {
        ...t.arg.connectionArgs(),
        where: t.arg({ type: TransferWhereInput }),
        orderBy: t.arg({ type: ChainOrderInput }),
      },
      resolve: (a, args, ctx, info) =>
        fetchPage<TransferRecord>(
          ctx.reader,
          TRANSFERS,
          [involves(sql`${a.address}::text`), ...transferFilters(args.where)],
          resolveOrder(TRANSFERS, args.orderBy, { field: "SLOT", desc: true }),
          args,
          ctx.limits,
          pageFields(info, "Transfer"),
        ),
    }),
  }),
});
