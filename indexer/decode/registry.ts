/** Every built-in DEX decoder, by preset name (the names and ids themselves live in core/presets.ts). */
import { createMeteoraDammV2 } from "./programs/meteora-damm-v2/index.js";
import { createMeteoraDlmm } from "./programs/meteora-dlmm/index.js";
import { createOrcaWhirlpool } from "./programs/orca-whirlpool/index.js";
import { createPumpAmm } from "./programs/pump-amm/index.js";
import { createPumpfun } from "./programs/pumpfun/index.js";
import { createRaydiumAmmV4 } from "./programs/raydium-amm-v4/index.js";
import { createRaydiumClmm } from "./programs/raydium-clmm/index.js";
import { createRaydiumCpmm } from "./programs/raydium-cpmm/index.js";
import type { DexProgram } from "./dex/dex-types.js";

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
