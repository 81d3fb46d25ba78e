/** Orca Whirlpool (Anchor): pools, swaps (one and two hops), liquidity and fee collection from its IDL. */
import idl from "./idl.json" with { type: "json" };
import { type HitRule, createAnchorDex } from "../../dex/anchor-dex.js";
import type { DexProgram } from "../../dex/dex-types.js";

const VAULTS = { pool: "whirlpool", vaultA: "tokenVaultA", vaultB: "tokenVaultB" };
const MINTS = { mintA: "tokenMintA", mintB: "tokenMintB" };
const create: HitRule[] = [{ kind: "create", ...VAULTS, ...MINTS, actor: "funder" }];
const liq = (kind: "add" | "remove", mints: boolean, actor = "positionAuthority"): HitRule[] => [
  { kind, ...VAULTS, ...(mints ? MINTS : {}), actor },
];

/** Creates the Orca Whirlpool decoder. */
export function createOrcaWhirlpool(): DexProgram {
  return createAnchorDex({
    preset: "orca-whirlpool",
    idl,
    rules: {
      initializePool: create,
      initializePoolV2: create,
      initializePoolWithAdaptiveFee: create,
      swap: [{ kind: "swap", ...VAULTS, actor: "tokenAuthority" }],
      swapV2: [{ kind: "swap", ...VAULTS, ...MINTS, actor: "tokenAuthority" }],
      twoHopSwap: [
        {
          kind: "swap",
          pool: "whirlpoolOne",
          vaultA: "tokenVaultOneA",
          vaultB: "tokenVaultOneB",
          actor: "tokenAuthority",
        },
        {
          kind: "swap",
          pool: "whirlpoolTwo",
          vaultA: "tokenVaultTwoA",
          vaultB: "tokenVaultTwoB",
          actor: "tokenAuthority",
          pathSuffix: "#1",
        },
      ],
      // v2 names vaults by route position; whirlpools keep mint A < mint B, so sorting by mint gives A/B
      twoHopSwapV2: [
        {
          kind: "swap",
          pool: "whirlpoolOne",
          vaultA: "tokenVaultOneInput",
          vaultB: "tokenVaultOneIntermediate",
          actor: "tokenAuthority",
          sortByMint: true,
        },
        {
          kind: "swap",
          pool: "whirlpoolTwo",
          vaultA: "tokenVaultTwoIntermediate",
          vaultB: "tokenVaultTwoOutput",
          actor: "tokenAuthority",
          sortByMint: true,
          pathSuffix: "#1",
        },
      ],
      increaseLiquidity: liq("add", false),
      increaseLiquidityV2: liq("add", true),
      increaseLiquidityByTokenAmountsV2: liq("add", true),
      decreaseLiquidity: liq("remove", false),
      decreaseLiquidityV2: liq("remove", true),
      // decrease + increase in one: the measured vault deltas decide add or remove
      repositionLiquidityV2: liq("add", true),
      collectFees: liq("remove", false),
      collectFeesV2: liq("remove", true),
      collectProtocolFees: liq("remove", false, "collectProtocolFeesAuthority"),
      collectProtocolFeesV2: liq("remove", true, "collectProtocolFeesAuthority"),
    },
  });
}
