/** Pump AMM (PumpSwap, Anchor): pools, buys and sells, deposits and withdrawals from its IDL. */
import idl from "./idl.json" with { type: "json" };
import { type HitRule, createAnchorDex } from "../../dex/anchor-dex.js";
import type { DexProgram } from "../../dex/dex-types.js";

const POOL = {
  pool: "pool",
  vaultA: "poolBaseTokenAccount",
  vaultB: "poolQuoteTokenAccount",
  mintA: "baseMint",
  mintB: "quoteMint",
};
const rule = (kind: HitRule["kind"], actor: string): HitRule[] => [{ kind, ...POOL, actor }];

/** Creates the Pump AMM decoder. */
export function createPumpAmm(): DexProgram {
  return createAnchorDex({
    preset: "pump-amm",
    idl,
    rules: {
      createPool: rule("create", "creator"),
      buy: rule("swap", "user"),
      buyExactQuoteIn: rule("swap", "user"),
      sell: rule("swap", "user"),
      deposit: rule("add", "user"),
      withdraw: rule("remove", "user"),
    },
  });
}
