/**
 * Built-in program presets: the names `PROGRAMS` accepts, and the mainnet program ids behind them.
 * @dev decoders for these live in indexer/decode/programs/; this table is the single list of names and ids.
 */

/** One preset: a name users write in `PROGRAMS`, the program id(s) it tracks, and what it records. */
export type ProgramPreset = {
  name: string;
  programIds: string[];
  kind: "token" | "dex" | "aggregator";
  description: string;
};

export const TOKEN_PROGRAM_ID = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
export const TOKEN_2022_PROGRAM_ID = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb";
export const ASSOCIATED_TOKEN_PROGRAM_ID = "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL";
export const VOTE_PROGRAM_ID = "Vote111111111111111111111111111111111111111";
export const WSOL_MINT = "So11111111111111111111111111111111111111112";
/** USD Coin (Circle) on Solana mainnet. */
export const USDC_MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
/** Tether USD on Solana mainnet. */
export const USDT_MINT = "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB";

/** Every built-in preset, in the order the README lists them. */
export const PRESETS: readonly ProgramPreset[] = [
  {
    name: "spl-token",
    programIds: [TOKEN_PROGRAM_ID, ASSOCIATED_TOKEN_PROGRAM_ID],
    kind: "token",
    description: "SPL Token transfers, mints, burns; ATA creation",
  },
  {
    name: "token-2022",
    programIds: [TOKEN_2022_PROGRAM_ID],
    kind: "token",
    description: "Token-2022, transfer fees included",
  },
  {
    name: "raydium-amm-v4",
    programIds: ["675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8"],
    kind: "dex",
    description: "Raydium AMM v4",
  },
  {
    name: "raydium-cpmm",
    programIds: ["CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C"],
    kind: "dex",
    description: "Raydium CPMM",
  },
  {
    name: "raydium-clmm",
    programIds: ["CAMMCzo5YL8w4VFF8KVHrK22GGUsp5VTaW7grrKgrWqK"],
    kind: "dex",
    description: "Raydium CLMM",
  },
  {
    name: "orca-whirlpool",
    programIds: ["whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc"],
    kind: "dex",
    description: "Orca Whirlpool",
  },
  {
    name: "meteora-dlmm",
    programIds: ["LBUZKhRxPF3XUpBCjp4YzTKgLccjZhTSDM9YuVaPwxo"],
    kind: "dex",
    description: "Meteora DLMM",
  },
  {
    name: "meteora-damm-v2",
    programIds: ["cpamdpZCGKUy5JxQXB4dcpGPiikHawvSWAd6mEn1sGG"],
    kind: "dex",
    description: "Meteora DAMM v2",
  },
  {
    name: "pumpfun",
    programIds: ["6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P"],
    kind: "dex",
    description: "Pump.fun bonding curve",
  },
  {
    name: "pump-amm",
    programIds: ["pAMMBay6oceH9fJKBRHGP5D4bD4sWpmSwMn52FMfXEA"],
    kind: "dex",
    description: "Pump AMM (PumpSwap)",
  },
  {
    name: "jupiter-v6",
    programIds: ["JUP6LkbZbjS1jKKwapdHNy74zcZ3tLUZoi5QNyVTaV4"],
    kind: "aggregator",
    description: "Jupiter v6 routes, as trades",
  },
];

/** Preset names, for validation and help texts. */
export const PRESET_NAMES: readonly string[] = PRESETS.map((p) => p.name);

const BASE58_ADDRESS = /^[1-9A-HJ-NP-Za-km-z]{32,44}$/;

/** True when `s` looks like a base58 Solana address (32-44 base58 characters). */
export function isAddress(s: string): boolean {
  return BASE58_ADDRESS.test(s);
}

/** Resolves `PROGRAMS` entries (preset names or ids) to the set of program ids to track. */
export function resolvePrograms(entries: readonly string[]): string[] {
  const ids = new Set<string>();
  for (const entry of entries) {
    const preset = PRESETS.find((p) => p.name === entry);
    if (preset) preset.programIds.forEach((id) => ids.add(id));
    else if (isAddress(entry)) ids.add(entry);
    else throw new Error(`unknown program preset or id: ${entry}`);
  }
  return [...ids];
}
