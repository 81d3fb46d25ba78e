/**
 * The decode -> store contract: what one transaction and one block contribute to the database. The decoder
 * produces these, the store writes them, and neither stage imports the other.
 * @dev rows are the tables' insert shapes (schema/); this file only groups them.
 */
import type {
  NewLiquidityEvent,
  NewPool,
  NewProgramEvent,
  NewSwap,
  NewTokenAccount,
  NewTransaction,
  NewTrade,
  NewTransfer,
  NewWallet,
  TOKEN_PROGRAMS,
} from "../schema/index.js";

/** A mint the transaction touched, with what the transaction itself tells about it. */
export type TokenSeen = {
  mint: string;
  program: (typeof TOKEN_PROGRAMS)[number];
  decimals: number | null;
  /** set only when the transaction initialises the mint or changes its authority */
  mintAuthority?: string | null;
  freezeAuthority?: string | null;
  /** the transaction initialises the mint (initializeMint*): its supply was 0 before it */
  initialized?: boolean;
  slot: number;
};

/** A token account as a transaction left it (its postTokenBalances entry; closed: in pre, absent from post). */
export type TokenAccountState = Required<NewTokenAccount>;

/** A signer's lamports after a transaction (its postBalances entry). */
export type WalletState = Required<NewWallet>;

/** Something the decoder passed over; the caller counts it in a metric and logs it once per kind. */
export type DecodeWarning =
  | {
      kind: "unknown_instruction";
      programId: string;
      discriminator: string;
      signature: string;
      instructionPath: string;
    }
  | {
      kind: "decode_error";
      programId: string;
      discriminator: string;
      signature: string;
      instructionPath: string;
      message: string;
    }
  | { kind: "log_truncated"; signature: string };

/** Everything one transaction contributes to the database. */
export type DecodedTransaction = {
  transaction: NewTransaction;
  transfers: NewTransfer[];
  swaps: NewSwap[];
  /** each pool as this transaction saw it: its creation, or first seen in a swap; reserves after it */
  pools: NewPool[];
  liquidityEvents: NewLiquidityEvent[];
  programEvents: NewProgramEvent[];
  /** what each signer sold and bought, from its own balance changes (see indexer/decode/trades.ts) */
  trades: NewTrade[];
  tokens: TokenSeen[];
  /** every token account in the transaction's token balances, as the transaction left it (failed ones too) */
  tokenAccounts: TokenAccountState[];
  /** the lamports of the transaction's signers after it (failed ones too: the fee is charged) */
  wallets: WalletState[];
  warnings: DecodeWarning[];
};

/** A decoded block: the slot's metadata and its decoded transactions (only those touching tracked programs). */
export type DecodedBlock = {
  slot: number;
  parentSlot: number;
  blockhash: string;
  /** the parent's blockhash as the block names it (live ingest checks the chain with it) */
  previousBlockhash?: string;
  blockTime: number | null;
  txCount: number;
  transactions: DecodedTransaction[];
};
