/**
 * Messages between the chain (parent) and the LiteSVM executor child process (svm-worker.ts),
 * sent over the fork IPC channel with `serialization: "advanced"` (bigint and Uint8Array survive).
 */
import type { RawBlockTransaction } from "../core/solana-types.js";

/** An account state as LiteSVM holds it; lamports 0 = the account no longer exists. */
export type WireAccount = { pubkey: string; lamports: bigint; owner: string; data: Uint8Array; executable: boolean };

/** Parent to child. */
export type ToWorker =
  /** restore `accounts` into a fresh LiteSVM (none: airdrop the payer and owners) and continue at step `nextStep` */
  | { type: "init"; nextStep: number; accounts: WireAccount[] }
  /** execute the next `count` steps */
  | { type: "run"; count: number };

/** Child to parent. */
export type FromWorker =
  | { type: "ready"; nextStep: number }
  /** one executed step: the transaction as getTransaction json shows it, and every account it touched, after it */
  | { type: "tx"; step: number; kind: string; raw: RawBlockTransaction; accounts: WireAccount[] }
  /** a step that could not be turned into a transaction (a bug, not a failed transaction) */
  | { type: "skip"; step: number; message: string };
