/**
 * Stage 2: raw transactions and blocks -> rows of the data model. Pure functions, no I/O.
 * @dev CONTRACT shared with the store stage and the tests; the implementation lives in sibling files.
 */
import type { liquidityEvents, pools, programEvents, swaps, tokenTransfers, transactions } from "../../schema/index.js";

/** A `transactions` row. */
export type TransactionRow = typeof transactions.$inferInsert;
/** A `token_transfers` row. */
export type TransferRow = typeof tokenTransfers.$inferInsert;
/** A `swaps` row. */
export type SwapRow = typeof swaps.$inferInsert;
/** A `pools` row as seen by one transaction (creation, or first seen in a swap; reserves after it). */
export type PoolRow = typeof pools.$inferInsert;
/** A `liquidity_events` row. */
export type LiquidityRow = typeof liquidityEvents.$inferInsert;
/** A `program_events` row. */
export type ProgramEventRow = typeof programEvents.$inferInsert;

/** A mint the transaction touched, with what the transaction itself tells about it. */
export type TokenSeen = {
  mint: string;
  program: "spl-token" | "token-2022";
  decimals: number | null;
  /** set only when the transaction initialises the mint or changes its authority */
  mintAuthority?: string | null;
  freezeAuthority?: string | null;
  slot: number;
};

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
  transaction: TransactionRow;
  transfers: TransferRow[];
  swaps: SwapRow[];
  pools: PoolRow[];
  liquidityEvents: LiquidityRow[];
  programEvents: ProgramEventRow[];
  tokens: TokenSeen[];
  warnings: DecodeWarning[];
};

export { createDecoder } from "./decoder.js";
export type { Decoder, DecoderOptions, DecodedBlock, TxPosition } from "./decoder.js";
export { createAnchorProgram } from "./anchor/anchor-program.js";
export type { AnchorProgram, DecodedAnchorIx } from "./anchor/anchor-program.js";
export { convertLegacyIdl, normalizeIdl, isNewFormat, idlAddress } from "./anchor/idl-normalize.js";
export type { AnyIdl } from "./anchor/idl-normalize.js";
