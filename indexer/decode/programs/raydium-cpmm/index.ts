/** Raydium CPMM (constant product, Anchor): pools, swaps, deposits and withdrawals from its IDL. */
import idl from "./idl.json" with { type: "json" };
import { createAnchorDex } from "../../dex/anchor-dex.js";
import type { DexProgram } from "../../dex/dex-types.js";

const VAULTS = {
  pool: "poolState",
  vaultA: "token0Vault",
  vaultB: "token1Vault",
  mintA: "vault0Mint",
  mintB: "vault1Mint",
};
// swaps name vaults by direction; the pool keeps token_0 < token_1 by mint, so sorting restores A/B
const SWAP = [
  {
    kind: "swap" as const,
    pool: "poolState",
    vaultA: "inputVault",
    vaultB: "outputVault",
    mintA: "inputTokenMint",
    mintB: "outputTokenMint",
    actor: "payer",
    sortByMint: true,
  },
];

/** Creates the Raydium CPMM decoder. */
export function createRaydiumCpmm(): DexProgram {
  return createAnchorDex({
    preset: "raydium-cpmm",
    idl,
    rules: {
      initialize: [
        {
          kind: "create",
          pool: "poolState",
          vaultA: "token0Vault",
          vaultB: "token1Vault",
          mintA: "token0Mint",
          mintB: "token1Mint",
          actor: "creator",
        },
      ],
      deposit: [{ kind: "add", ...VAULTS, actor: "owner" }],
      withdraw: [{ kind: "remove", ...VAULTS, actor: "owner" }],
      swapBaseInput: SWAP,
      swapBaseOutput: SWAP,
      collectFundFee: [{ kind: "remove", ...VAULTS, actor: "owner" }],
      collectProtocolFee: [{ kind: "remove", ...VAULTS, actor: "owner" }],
    },
  });
}
