/** Meteora DLMM (liquidity book, Anchor): pairs, swaps and bin liquidity from its IDL. */
import idl from "./idl.json" with { type: "json" };
import { type HitRule, type Rule, createAnchorDex } from "../../dex/anchor-dex.js";
import type { DexProgram } from "../../dex/dex-types.js";

const PAIR = { pool: "lbPair", vaultA: "reserveX", vaultB: "reserveY", mintA: "tokenXMint", mintB: "tokenYMint" };
const swap: HitRule[] = [{ kind: "swap", ...PAIR, actor: "user" }];
const add: HitRule[] = [{ kind: "add", ...PAIR, actor: "sender" }];
const remove: HitRule[] = [{ kind: "remove", ...PAIR, actor: "sender" }];
const oneSide: HitRule[] = [{ kind: "add", pool: "lbPair", oneSided: "reserve", actor: "sender" }];
const create = (actor: string): HitRule[] => [
  {
    kind: "create",
    pool: "lbPair",
    vaultA: "reserveX",
    vaultB: "reserveY",
    mintA: "tokenMintX",
    mintB: "tokenMintY",
    actor,
  },
];

/** Creates the Meteora DLMM decoder. */
export function createMeteoraDlmm(): DexProgram {
  const rules: Record<string, Rule> = {
    initializeLbPair: create("funder"),
    initializeLbPair2: create("funder"),
    initializeCustomizablePermissionlessLbPair: create("funder"),
    initializeCustomizablePermissionlessLbPair2: create("funder"),
    initializePermissionLbPair: create("payer"),
    swap,
    swap2: swap,
    swapExactOut: swap,
    swapExactOut2: swap,
    swapWithPriceImpact: swap,
    swapWithPriceImpact2: swap,
    addLiquidity: add,
    addLiquidity2: add,
    addLiquidityByStrategy: add,
    addLiquidityByStrategy2: add,
    addLiquidityByWeight: add,
    addLiquidityByWeight2: add,
    addLiquidityOneSide: oneSide,
    addLiquidityOneSidePrecise: oneSide,
    addLiquidityOneSidePrecise2: oneSide,
    addLiquidityByStrategyOneSide: oneSide,
    removeLiquidity: remove,
    removeLiquidity2: remove,
    removeLiquidityByRange: remove,
    removeLiquidityByRange2: remove,
    removeAllLiquidity: remove,
    claimFee: remove,
    claimFee2: remove,
    rebalanceLiquidity: [{ kind: "add", ...PAIR, actor: "owner" }],
  };
  return createAnchorDex({ preset: "meteora-dlmm", idl, rules });
}
