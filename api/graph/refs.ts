/**
 * References to every GraphQL object type, declared before any is implemented, so type files can point at
 * each other without import cycles. Loadable refs carry the DataLoader that fetches them by key.
 * @dev loaders live on the request context (the dataloader plugin caches them there): one set per request.
 */
import { builder } from "./builder.js";
import type { RequestContext } from "../context.js";
import {
  type BackfillRecord,
  type BalanceChangeRecord,
  type HoldingRecord,
  type TokenAccountRecord,
  type CandleRecord,
  type LiquidityEventRecord,
  type PoolRecord,
  type ProgramEventRecord,
  type SlotRecord,
  type SwapRecord,
  type TokenRecord,
  type TradeRecord,
  type TransactionRecord,
  type TransferRecord,
  poolsByAddress,
  slotsByNumber,
  tokenAccountsByAddress,
  tokensByMint,
  transactionsBySignature,
} from "../queries/index.js";

/** Wraps a batch function so each batch's size lands in the DataLoader histogram. */
export function counted<K, R>(loader: string, load: (keys: K[], ctx: RequestContext) => Promise<R>) {
  return (keys: K[], ctx: RequestContext) => {
    ctx.metrics.batchSize.observe({ loader }, keys.length);
    return load(keys, ctx);
  };
}

export const Token = builder.loadableObjectRef("Token", {
  load: counted("token", (mints: string[], ctx) => tokensByMint(ctx.reader, mints)),
  sort: (t: TokenRecord) => t.mint,
});

export const Pool = builder.loadableObjectRef("Pool", {
  load: counted("pool", (addresses: string[], ctx) => poolsByAddress(ctx.reader, addresses)),
  sort: (p: PoolRecord) => p.address,
});

export const Transaction = builder.loadableObjectRef("Transaction", {
  load: counted("transaction", async (signatures: string[], ctx) => {
    const rows = await transactionsBySignature(ctx.reader, signatures);
    // A missing transaction may still arrive; a present one is as final as its slot (see cache-plugin.ts).
    if (rows.length < new Set(signatures).size) ctx.cache.missing = true;
    for (const r of rows) ctx.cache.maxSlot = Math.max(ctx.cache.maxSlot ?? 0, r.slot);
    return rows;
  }),
  sort: (t: TransactionRecord) => t.signature,
});

export const Slot = builder.loadableObjectRef("Slot", {
  load: counted("slot", (slots: number[], ctx) => slotsByNumber(ctx.reader, slots)),
  sort: (s: SlotRecord) => s.slot,
});

export const TokenAccount = builder.loadableObjectRef("TokenAccount", {
  load: counted("tokenAccount", (addresses: string[], ctx) => tokenAccountsByAddress(ctx.reader, addresses)),
  sort: (a: TokenAccountRecord) => a.address,
});

export const Swap = builder.objectRef<SwapRecord>("Swap");
export const Transfer = builder.objectRef<TransferRecord>("Transfer");
export const Trade = builder.objectRef<TradeRecord>("Trade");
export const LiquidityEvent = builder.objectRef<LiquidityEventRecord>("LiquidityEvent");
export const ProgramEvent = builder.objectRef<ProgramEventRecord>("ProgramEvent");
export const Candle = builder.objectRef<CandleRecord>("Candle");
export const PoolVolume = builder.objectRef<{
  window: string;
  from: Date;
  to: Date;
  swaps: number;
  volumeA: string;
  volumeB: string;
  pool: string;
}>("PoolVolume");
export const Account = builder.objectRef<{ address: string }>("Account");
export const Backfill = builder.objectRef<BackfillRecord>("Backfill");
export const Holding = builder.objectRef<HoldingRecord>("Holding");
export const BalanceChange = builder.objectRef<BalanceChangeRecord>("BalanceChange");

export const TokenConnection = builder.connectionObject({ type: Token, name: "TokenConnection" });
export const PoolConnection = builder.connectionObject({ type: Pool, name: "PoolConnection" });
export const SwapConnection = builder.connectionObject({ type: Swap, name: "SwapConnection" });
export const TransferConnection = builder.connectionObject({ type: Transfer, name: "TransferConnection" });
export const TradeConnection = builder.connectionObject({ type: Trade, name: "TradeConnection" });
export const TransactionConnection = builder.connectionObject({ type: Transaction, name: "TransactionConnection" });
export const LiquidityEventConnection = builder.connectionObject({
  type: LiquidityEvent,
  name: "LiquidityEventConnection",
});
export const HoldingConnection = builder.connectionObject({ type: Holding, name: "HoldingConnection" });
export const TokenAccountConnection = builder.connectionObject({ type: TokenAccount, name: "TokenAccountConnection" });
export const ProgramEventConnection = builder.connectionObject({ type: ProgramEvent, name: "ProgramEventConnection" });
