/** Swap: one swap instruction, from the pool's side (amountIn is what its vault received). */
import { builder } from "../builder.js";
import type { RequestContext } from "../context.js";
import { formatUnits } from "../format.js";
import { Pool, Swap, Token, Transaction } from "./refs.js";

/** `raw` with the decimals of `mint` applied, through the token loader (null when unknown). */
export async function uiAmount(ctx: RequestContext, mint: string, raw: string): Promise<string | null> {
  const tok = await Token.getDataloader(ctx).load(mint);
  return tok?.decimals == null ? null : formatUnits(raw, tok.decimals);
}

Swap.implement({
  description: "A swap through a DEX pool, measured from the pool vaults' own token movements.",
  fields: (t) => ({
    signature: t.exposeString("signature"),
    instructionPath: t.exposeString("instructionPath", { description: "`2` = top-level instruction 2, `2.1` its first inner instruction" }),
    slot: t.exposeInt("slot"),
    blockTime: t.field({ type: "DateTime", nullable: true, resolve: (s) => s.blockTime }),
    pool: t.field({ type: Pool, nullable: true, resolve: (s) => s.pool }),
    poolAddress: t.exposeString("pool"),
    dex: t.string({ resolve: async (s, _a, ctx) => s.dex ?? (await Pool.getDataloader(ctx).load(s.pool))?.dex ?? "unknown" }),
    trader: t.exposeString("trader"),
    tokenIn: t.field({ type: Token, nullable: true, resolve: (s) => s.mintIn }),
    tokenOut: t.field({ type: Token, nullable: true, resolve: (s) => s.mintOut }),
    mintIn: t.exposeString("mintIn"),
    mintOut: t.exposeString("mintOut"),
    amountIn: t.expose("amountIn", { type: "BigInt" }),
    amountOut: t.expose("amountOut", { type: "BigInt" }),
    amountInUi: t.string({ nullable: true, resolve: (s, _a, ctx) => uiAmount(ctx, s.mintIn, s.amountIn) }),
    amountOutUi: t.string({ nullable: true, resolve: (s, _a, ctx) => uiAmount(ctx, s.mintOut, s.amountOut) }),
    transaction: t.field({ type: Transaction, nullable: true, resolve: (s) => s.signature }),
  }),
});
