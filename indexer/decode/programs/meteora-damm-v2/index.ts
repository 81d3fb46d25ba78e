/** Meteora DAMM v2 (cp-amm, Anchor): pools, swaps, liquidity and fee claims from its IDL. */
import idl from "./idl.json" with { type: "json" };
import { type HitRule, createAnchorDex } from "../../dex/anchor-dex.js";
import type { DexProgram } from "../../dex/dex-types.js";

const POOL = { pool: "pool", vaultA: "tokenAVault", vaultB: "tokenBVault", mintA: "tokenAMint", mintB: "tokenBMint" };
const rule = (kind: HitRule["kind"], actor: string): HitRule[] => [{ kind, ...POOL, actor }];

/** Creates the Meteora DAMM v2 decoder. */
export function createMeteoraDammV2(): DexProgram {
  return createAnchorDex({
    preset: "meteora-damm-v2",
    idl,
    rules: {
      initializePool: rule("create", "creator"),
      initializeCustomizablePool: rule("create", "creator"),
      initializePoolWithDynamicConfig: rule("create", "creator"),
      swap: rule("swap", "payer"),
      swap2: rule("swap", "payer"),
      addLiquidity: rule("add", "owner"),
      removeLiquidity: rule("remove", "owner"),
      removeAllLiquidity: rule("remove", "owner"),
      claimPositionFee: rule("remove", "owner"),
      claimProtocolFee: rule("remove", "operator"),
    },
  });
}
