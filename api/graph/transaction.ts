/**
 * Transaction, with its swaps, transfers, trades and program events (one statement per list level).
 * @dev subscription payloads carry only signature, slot, programIds and success: the other fields load the
 * stored row through the transaction loader when they are asked for.
 */
import { builder } from "./builder.js";
import type { RequestContext } from "../context.js";
import {
  type TransactionRecord,
  groupBy,
  programEventsBySignature,
  swapsBySignature,
  tradesBySignature,
  transfersBySignature,
} from "../queries/index.js";
import { ProgramEvent, Swap, Trade, Transaction, Transfer } from "./refs.js";

async function full(ctx: RequestContext, tx: TransactionRecord): Promise<TransactionRecord> {
  if (tx.fee !== undefined) return tx;
  return (await Transaction.getDataloader(ctx).load(tx.signature)) ?? tx;
}

Transaction.implement({
  description: "A stored transaction: one that invokes a tracked program (votes are never stored).",
  fields: (t) => ({
    signature: t.exposeString("signature"),
    slot: t.exposeInt("slot"),
    success: t.exposeBoolean("success"),
    programIds: t.exposeStringList("programIds", {
      description: "programs invoked, top-level and inner, in first-seen order",
    }),
    blockTime: t.field({
      type: "DateTime",
      nullable: true,
      resolve: async (tx, _a, ctx) => (await full(ctx, tx)).blockTime ?? null,
    }),
    position: t.int({
      nullable: true,
      description: "index in the block",
      resolve: async (tx, _a, ctx) => (await full(ctx, tx)).txIndex ?? null,
    }),
    fee: t.field({
      type: "BigInt",
      nullable: true,
      description: "lamports",
      resolve: async (tx, _a, ctx) => (await full(ctx, tx)).fee ?? null,
    }),
    err: t.field({ type: "JSON", nullable: true, resolve: async (tx, _a, ctx) => (await full(ctx, tx)).err ?? null }),
    feePayer: t.string({ nullable: true, resolve: async (tx, _a, ctx) => (await full(ctx, tx)).feePayer ?? null }),
    computeUnits: t.int({ nullable: true, resolve: async (tx, _a, ctx) => (await full(ctx, tx)).computeUnits ?? null }),
    logTruncated: t.boolean({
      nullable: true,
      resolve: async (tx, _a, ctx) => (await full(ctx, tx)).logTruncated ?? null,
    }),
    swaps: t.loadableList({
      type: Swap,
      load: async (signatures: string[], ctx) => {
        ctx.metrics.batchSize.observe({ loader: "transaction.swaps" }, signatures.length);
        return groupBy(signatures, await swapsBySignature(ctx.reader, signatures), (r) => r.signature);
      },
      resolve: (tx) => tx.signature,
    }),
    transfers: t.loadableList({
      type: Transfer,
      load: async (signatures: string[], ctx) => {
        ctx.metrics.batchSize.observe({ loader: "transaction.transfers" }, signatures.length);
        return groupBy(signatures, await transfersBySignature(ctx.reader, signatures), (r) => r.signature);
      },
      resolve: (tx) => tx.signature,
    }),
    trades: t.loadableList({
      type: Trade,
      description: "what each signer sold and bought, from its own balance changes",
      load: async (signatures: string[], ctx) => {
        ctx.metrics.batchSize.observe({ loader: "transaction.trades" }, signatures.length);
        return groupBy(signatures, await tradesBySignature(ctx.reader, signatures), (r) => r.signature);
      },
      resolve: (tx) => tx.signature,
    }),
    events: t.loadableList({
      type: ProgramEvent,
      load: async (signatures: string[], ctx) => {
        ctx.metrics.batchSize.observe({ loader: "transaction.events" }, signatures.length);
        return groupBy(signatures, await programEventsBySignature(ctx.reader, signatures), (r) => r.signature);
      },
      resolve: (tx) => tx.signature,
    }),
  }),
});
