/**
 * A transaction's error as Geyser carries it (`TransactionError.err`: the bincode bytes of Agave's
 * `TransactionError`) and as JSON-RPC shows it (`{"InstructionError":[2,{"Custom":6001}]}`, `"AccountInUse"`).
 * @dev bincode: an enum is its variant index as a u32 LE, then its fields; a u8 is one byte, a String a u64 LE
 * length and its bytes. The variant lists follow Agave's declaration order; a new variant past the end decodes to
 * undefined (the caller then takes the block from JSON-RPC instead of guessing).
 */

/** Agave's TransactionError variants, in declaration order; `u8` / `{account_index}` mark the ones with a field. */
const TX_ERRORS: [string, "unit" | "ix" | "u8" | "account_index"][] = [
  ["AccountInUse", "unit"],
  ["AccountLoadedTwice", "unit"],
  ["AccountNotFound", "unit"],
  ["ProgramAccountNotFound", "unit"],
  ["InsufficientFundsForFee", "unit"],
  ["InvalidAccountForFee", "unit"],
  ["AlreadyProcessed", "unit"],
  ["BlockhashNotFound", "unit"],
  ["InstructionError", "ix"],
  ["CallChainTooDeep", "unit"],
  ["MissingSignatureForFee", "unit"],
  ["InvalidAccountIndex", "unit"],
  ["SignatureFailure", "unit"],
  ["InvalidProgramForExecution", "unit"],
  ["SanitizeFailure", "unit"],
  ["ClusterMaintenance", "unit"],
  ["AccountBorrowOutstanding", "unit"],
  ["WouldExceedMaxBlockCostLimit", "unit"],
  ["UnsupportedVersion", "unit"],
  ["InvalidWritableAccount", "unit"],
  ["WouldExceedMaxAccountCostLimit", "unit"],
  ["WouldExceedAccountDataBlockLimit", "unit"],
  ["TooManyAccountLocks", "unit"],
  ["AddressLookupTableNotFound", "unit"],
  ["InvalidAddressLookupTableOwner", "unit"],
  ["InvalidAddressLookupTableData", "unit"],
  ["InvalidAddressLookupTableIndex", "unit"],
  ["InvalidRentPayingAccount", "unit"],
  ["WouldExceedMaxVoteCostLimit", "unit"],
  ["WouldExceedAccountDataTotalLimit", "unit"],
  ["DuplicateInstruction", "u8"],
  ["InsufficientFundsForRent", "account_index"],
  ["MaxLoadedAccountsDataSizeExceeded", "unit"],
  ["InvalidLoadedAccountsDataSizeLimit", "unit"],
  ["ResanitizationNeeded", "unit"],
  ["ProgramExecutionTemporarilyRestricted", "account_index"],
  ["UnbalancedTransaction", "unit"],
  ["ProgramCacheHitMaxLimit", "unit"],
  ["CommitCancelled", "unit"],
];

/** Agave's InstructionError variants, in declaration order (Custom carries a u32, BorshIoError a String). */
const IX_ERRORS = [
  "GenericError",
  "InvalidArgument",
  "InvalidInstructionData",
  "InvalidAccountData",
  "AccountDataTooSmall",
  "InsufficientFunds",
  "IncorrectProgramId",
  "MissingRequiredSignature",
  "AccountAlreadyInitialized",
  "UninitializedAccount",
  "UnbalancedInstruction",
  "ModifiedProgramId",
  "ExternalAccountLamportSpend",
  "ExternalAccountDataModified",
  "ReadonlyLamportChange",
  "ReadonlyDataModified",
  "DuplicateAccountIndex",
  "ExecutableModified",
  "RentEpochModified",
  "NotEnoughAccountKeys",
  "AccountDataSizeChanged",
  "AccountNotExecutable",
  "AccountBorrowFailed",
  "AccountBorrowOutstanding",
  "DuplicateAccountOutOfSync",
  "Custom",
  "InvalidError",
  "ExecutableDataModified",
  "ExecutableLamportChange",
  "ExecutableAccountNoRentEpoch",
  "UnsupportedProgramId",
  "CallDepth",
  "MissingAccount",
  "ReentrancyNotAllowed",
  "MaxSeedLengthExceeded",
  "InvalidSeeds",
  "InvalidRealloc",
  "ComputationalBudgetExceeded",
  "PrivilegeEscalation",
  "ProgramEnvironmentSetupFailure",
  "ProgramFailedToComplete",
  "ProgramFailedToCompile",
  "Immutable",
  "IncorrectAuthority",
  "BorshIoError",
  "AccountNotRentExempt",
  "InvalidAccountOwner",
  "ArithmeticOverflow",
  "UnsupportedSysvar",
  "IllegalOwner",
  "MaxAccountsDataAllocationsExceeded",
  "MaxAccountsExceeded",
  "MaxInstructionTraceLengthExceeded",
  "BuiltinProgramsMustConsumeComputeUnits",
];

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};

/** The bincode bytes of a JSON-RPC `err`, or undefined for a shape this table does not know. */
export function encodeTransactionError(err: unknown): Buffer | undefined {
  const [name, value] = typeof err === "string" ? [err, undefined] : (Object.entries(err ?? {})[0] ?? []);
  const i = TX_ERRORS.findIndex(([n]) => n === name);
  if (i < 0) return undefined;
  const kind = TX_ERRORS[i]![1];
  if (kind === "unit") return typeof err === "string" ? u32(i) : undefined;
  if (kind === "u8") return Buffer.concat([u32(i), Buffer.from([Number(value)])]);
  if (kind === "account_index")
    return Buffer.concat([u32(i), Buffer.from([Number((value as { account_index: number }).account_index)])]);
  const [ix, inner] = value as [number, unknown];
  const [iname, ivalue] = typeof inner === "string" ? [inner, undefined] : (Object.entries(inner ?? {})[0] ?? []);
  const j = IX_ERRORS.indexOf(iname as string);
  if (j < 0) return undefined;
  const head = Buffer.concat([u32(i), Buffer.from([ix]), u32(j)]);
  if (iname === "Custom") return Buffer.concat([head, u32(Number(ivalue))]);
  if (iname === "BorshIoError" && typeof ivalue === "string") {
    const s = Buffer.from(ivalue, "utf8");
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(s.length));
    return Buffer.concat([head, len, s]);
  }
  return typeof inner === "string" ? head : undefined;
}

/** The JSON-RPC `err` of bincode bytes, or undefined when they are not a TransactionError this table knows. */
export function decodeTransactionError(b: Uint8Array): unknown {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (buf.length < 4) return undefined;
  const entry = TX_ERRORS[buf.readUInt32LE(0)];
  if (!entry) return undefined;
  const [name, kind] = entry;
  if (kind === "unit") return buf.length === 4 ? name : undefined;
  if (kind === "u8") return buf.length === 5 ? { [name]: buf[4] } : undefined;
  if (kind === "account_index") return buf.length === 5 ? { [name]: { account_index: buf[4] } } : undefined;
  if (buf.length < 9) return undefined;
  const ix = buf[4]!;
  const iname = IX_ERRORS[buf.readUInt32LE(5)];
  if (iname === undefined) return undefined;
  if (iname === "Custom") return buf.length === 13 ? { [name]: [ix, { Custom: buf.readUInt32LE(9) }] } : undefined;
  if (iname === "BorshIoError" && buf.length >= 17) {
    const len = Number(buf.readBigUInt64LE(9));
    if (buf.length !== 17 + len) return undefined;
    return { [name]: [ix, { BorshIoError: buf.subarray(17).toString("utf8") }] };
  }
  return buf.length === 9 ? { [name]: [ix, iname] } : undefined;
}
