/**
 * The contract between one DEX program decoder and the shared measuring code: a decoder says which pool an
 * instruction hits and which accounts are its vaults; amounts are then measured from what the vaults
 * received and paid inside that instruction, never taken from instruction args.
 */
import type { TxView } from "../tx-view.js";

/** What a DEX instruction does to a pool. `create` also yields an `add` when the vaults were funded. */
export type DexHitKind = "swap" | "add" | "remove" | "create";

/** One pool hit by one instruction. */
export type DexHit = {
  kind: DexHitKind;
  pool: string;
  /** account indexes of the pool's vaults; B may hold lamports (pump.fun's bonding curve) */
  vaultA: number | undefined;
  vaultB: number | undefined;
  mintA?: string;
  mintB?: string;
  /** swap trader / liquidity owner */
  actor: string;
  /** vault B is a plain account holding SOL, measured in lamports */
  lamportVaultB?: boolean;
  /** SOL the lamport vault received (+) or paid (-), when the program moves it without a System transfer */
  lamportNetB?: bigint;
  /** when several hits share an instruction (two-hop swaps), later hits get a distinct path suffix */
  pathSuffix?: string;
  /** one-sided liquidity: only this vault is named; the other side is looked up from the transaction */
  oneSidedVault?: number;
};

/** Result of decoding one instruction of a DEX program. */
export type DexIxResult =
  | { type: "hits"; name: string; hits: DexHit[] }
  | { type: "other"; name: string }
  | { type: "unknown"; discriminator: string }
  | { type: "error"; discriminator: string; message: string };

/** One built-in DEX: a preset name, its program id and an instruction decoder. */
export type DexProgram = {
  preset: string;
  programId: string;
  /** instruction names that produce swaps, pools or liquidity events (for the README table) */
  decodedInstructions: string[];
  /** events the decoder reads (from emit_cpi! inner instructions) */
  eventsRead?: string[];
  decode(view: TxView, ixIndex: number, data: Uint8Array): DexIxResult;
};

/** Wrapped SOL, the mint a lamport vault is reported under. */
export const NATIVE_MINT = "So11111111111111111111111111111111111111112";
