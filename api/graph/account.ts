/** Account: a wallet's swaps (as trader) and transfers (as token account or owner, either side). */
import { builder } from "./builder.js";
import { SWAPS, TRANSFERS, type TransferRecord, involves, swapFilters, transferFilters } from "../queries/index.js";
import { fetchPage, sql } from "../sql/index.js";
import { ChainOrderInput, SwapWhereInput, TransferWhereInput, resolveOrder } from "./inputs.js";
import { Account, SwapConnection, TransferConnection } from "./refs.js";
import { pageFields } from "./reads.js";
import { fetchSwapPage } from "./swap.js";

Account.implement({
  description: "Activity of one address.",
  fields: (t) => ({
    address: t.exposeString("address"),
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
