/** Raydium CLMM (concentrated liquidity, Anchor): pools, swaps and position liquidity from its IDL. */
import idl from "./idl.json" with { type: "json" };
import { type HitRule, createAnchorDex } from "../../dex/anchor-dex.js";
import type { DexProgram } from "../../dex/dex-types.js";

const VAULTS = { pool: "poolState", vaultA: "tokenVault0", vaultB: "tokenVault1" };
const V2_MINTS = { mintA: "vault0Mint", mintB: "vault1Mint" };
const liquidity = (kind: "add" | "remove", actor: string, v2: boolean): HitRule[] => [
  { kind, ...VAULTS, ...(v2 ? V2_MINTS : {}), actor },
];

/** Creates the Raydium CLMM decoder. */
export function createRaydiumClmm(): DexProgram {
  return createAnchorDex({
    preset: "raydium-clmm",
    idl,
    rules: {
      createPool: [{ kind: "create", ...VAULTS, mintA: "tokenMint0", mintB: "tokenMint1", actor: "poolCreator" }],
      // token_mint_0 < token_mint_1 is enforced at pool creation, so sorting the input/output vaults by mint gives 0/1
      swap: [
        {
          kind: "swap",
          pool: "poolState",
          vaultA: "inputVault",
          vaultB: "outputVault",
          actor: "payer",
          sortByMint: true,
        },
      ],
      swapV2: [
        {
          kind: "swap",
          pool: "poolState",
          vaultA: "inputVault",
          vaultB: "outputVault",
          mintA: "inputVaultMint",
          mintB: "outputVaultMint",
          actor: "payer",
          sortByMint: true,
        },
      ],
      increaseLiquidity: liquidity("add", "nftOwner", false),
      increaseLiquidityV2: liquidity("add", "nftOwner", true),
      decreaseLiquidity: liquidity("remove", "nftOwner", false),
      decreaseLiquidityV2: liquidity("remove", "nftOwner", true),
      openPosition: liquidity("add", "positionNftOwner", false),
      openPositionV2: liquidity("add", "positionNftOwner", true),
      openPositionWithToken22Nft: liquidity("add", "positionNftOwner", true),
      collectFundFee: [
        {
          kind: "remove",
          pool: "poolState",
          vaultA: "tokenVault0",
          vaultB: "tokenVault1",
          ...V2_MINTS,
          actor: "owner",
        },
      ],
      collectProtocolFee: [
        {
          kind: "remove",
          pool: "poolState",
          vaultA: "tokenVault0",
          vaultB: "tokenVault1",
          ...V2_MINTS,
          actor: "owner",
        },
      ],
    },
  });
}
