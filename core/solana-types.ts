/**
 * The raw JSON-RPC shapes slotline reads (getBlock / getTransaction, encoding `json`,
 * maxSupportedTransactionVersion 0), as the wire carries them. Shared by source, decode and devchain.
 * @dev numbers that are u64 on chain (lamports, amounts) arrive as JS numbers except token amounts (strings);
 * decoders convert with BigInt() and never do arithmetic on a JS number amount.
 */

/** One compiled instruction: indexes into the transaction's full account key list. */
/** A lamport balance as an answer carries it: a JSON number when safe, its decimal text past 2^53. */
export type Lamports = number | string;

export type RawCompiledInstruction = {
  programIdIndex: number;
  accounts: number[];
  /** base58 */
  data: string;
  stackHeight?: number | null;
};

/** An address lookup table reference of a v0 message. */
export type RawAddressTableLookup = { accountKey: string; writableIndexes: number[]; readonlyIndexes: number[] };

/** A transaction message in `json` encoding. */
export type RawMessage = {
  accountKeys: string[];
  header: { numRequiredSignatures: number; numReadonlySignedAccounts: number; numReadonlyUnsignedAccounts: number };
  instructions: RawCompiledInstruction[];
  recentBlockhash: string;
  addressTableLookups?: RawAddressTableLookup[] | null;
};

/** One entry of pre/postTokenBalances. */
export type RawTokenBalance = {
  accountIndex: number;
  mint: string;
  owner?: string;
  programId?: string;
  uiTokenAmount: { amount: string; decimals: number; uiAmount: number | null; uiAmountString?: string };
};

/** Transaction status meta in `json` encoding. */
export type RawMeta = {
  err: unknown;
  status?: unknown;
  fee: number;
  /** lamports: a number up to 2^53, the exact decimal text past it (read as bigint) */
  preBalances: Lamports[];
  postBalances: Lamports[];
  innerInstructions?: { index: number; instructions: RawCompiledInstruction[] }[] | null;
  logMessages?: string[] | null;
  preTokenBalances?: RawTokenBalance[] | null;
  postTokenBalances?: RawTokenBalance[] | null;
  rewards?: unknown[] | null;
  loadedAddresses?: { writable: string[]; readonly: string[] };
  returnData?: { programId: string; data: [string, string] } | null;
  computeUnitsConsumed?: number;
};

/** A transaction with its meta, as an item of getBlock's `transactions`. */
export type RawBlockTransaction = {
  transaction: { signatures: string[]; message: RawMessage };
  meta: RawMeta | null;
  version?: "legacy" | 0;
};

/** A getTransaction result. */
export type RawTransaction = RawBlockTransaction & { slot: number; blockTime?: number | null };

/** A getBlock result (transactionDetails `full`). */
export type RawBlock = {
  blockhash: string;
  previousBlockhash: string;
  parentSlot: number;
  blockTime: number | null;
  blockHeight: number | null;
  transactions: RawBlockTransaction[];
  rewards?: unknown[];
};

/** Transactions read one at a time: `get(i)` parses and checks item i (throws if it is not a transaction). */
/** `release()` (idempotent): the list will not be read again, so the answer's receive buffer can be reused. */
export type TransactionList = { readonly length: number; get(i: number): RawBlockTransaction; release(): void };

/** A getBlock result whose transactions are read one at a time (see source/block-json.ts). */
export type LazyBlock = Omit<RawBlock, "transactions"> & { transactions: TransactionList };
