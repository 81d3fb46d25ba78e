/** Transfer: a token transfer, mint or burn. */
import { builder } from "./builder.js";
import type { TransferRecord } from "../queries/index.js";
import { TransferKindEnum } from "./inputs.js";
import { reads } from "./reads.js";
import { Token, Transaction, Transfer } from "./refs.js";
import { uiAmount } from "./swap.js";

Transfer.implement({
  description: "A token movement: transfer (source and destination), mint (destination only) or burn (source only).",
  fields: (t) => ({
    signature: t.exposeString("signature"),
    instructionPath: t.exposeString("instructionPath"),
    kind: t.expose("kind", { type: TransferKindEnum }),
    token: t.field({ type: Token, nullable: true, extensions: reads<TransferRecord>("mint"), resolve: (x) => x.mint }),
    mint: t.exposeString("mint"),
    source: t.exposeString("source", { nullable: true }),
    destination: t.exposeString("destination", { nullable: true }),
    sourceOwner: t.exposeString("sourceOwner", { nullable: true }),
    destinationOwner: t.exposeString("destinationOwner", { nullable: true }),
    amount: t.expose("amount", { type: "BigInt" }),
    amountUi: t.string({
      nullable: true,
      extensions: reads<TransferRecord>("mint", "amount"),
      resolve: (x, _a, ctx) => uiAmount(ctx, x.mint, x.amount),
    }),
    fee: t.expose("fee", { type: "BigInt", description: "Token-2022 transfer fee withheld (0 otherwise)" }),
    slot: t.exposeInt("slot"),
    blockTime: t.expose("blockTime", { type: "DateTime", nullable: true }),
    transaction: t.field({
      type: Transaction,
      nullable: true,
      extensions: reads<TransferRecord>("signature"),
      resolve: (x) => x.signature,
    }),
  }),
});
