/** Every built-in DEX decoder, by preset name (the names and ids themselves live in indexer/programs.ts). */
import { createMeteoraDammV2 } from "../programs/meteora-damm-v2.js";
import { createMeteoraDlmm } from "../programs/meteora-dlmm.js";
import { createOrcaWhirlpool } from "../programs/orca-whirlpool.js";
import { createPumpAmm } from "../programs/pump-amm.js";
import { createPumpfun } from "../programs/pumpfun.js";
import { createRaydiumAmmV4 } from "../programs/raydium-amm-v4.js";
import { createRaydiumClmm } from "../programs/raydium-clmm.js";
import { createRaydiumCpmm } from "../programs/raydium-cpmm.js";
import type { DexProgram } from "./dex-types.js";

/** Factories of the DEX decoders, keyed by preset name. */
export const DEX_FACTORIES: Readonly<Record<string, () => DexProgram>> = {
  "raydium-amm-v4": createRaydiumAmmV4,
  "raydium-cpmm": createRaydiumCpmm,
  "raydium-clmm": createRaydiumClmm,
  "orca-whirlpool": createOrcaWhirlpool,
  "meteora-dlmm": createMeteoraDlmm,
  "meteora-damm-v2": createMeteoraDammV2,
  pumpfun: createPumpfun,
  "pump-amm": createPumpAmm,
};

let all: Map<string, DexProgram> | undefined;

/** All DEX decoders by program id, built once (they hold only immutable IDL-derived tables). */
export function dexProgramsById(): Map<string, DexProgram> {
  if (!all) {
    all = new Map();
    for (const make of Object.values(DEX_FACTORIES)) {
      const d = make();
      all.set(d.programId, d);
    }
  }
  return all;
}
