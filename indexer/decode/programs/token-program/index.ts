/**
 * SPL Token and Token-2022 instructions, carbon-style: match on the tag byte, map account indexes to
 * names, deserialize the fixed layout. Also the Associated Token Account program's create instructions.
 * @dev amounts are read as u64 little-endian straight into bigint; nothing goes through a JS number.
 */
import { createHash } from "node:crypto";
import bs58 from "bs58";
import { TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID } from "../../../../core/presets.js";

/** A token movement: `amount` leaves `source`; `destination` receives `amount - fee` (Token-2022 transfer fee). */
export type TokenMove = {
  kind: "transfer" | "mint" | "burn";
  /** account indexes into the transaction's keys */
  source: number | undefined;
  destination: number | undefined;
  /** mint address when the instruction names it (checked variants, mint/burn) */
  mint: number | undefined;
  authority: number | undefined;
  amount: bigint;
  fee: bigint;
  /**
   * false for a Token-2022 transfer without a fee in its data: the mint's transfer fee config is not in the
   * transaction, so the fee (if any) is inferred afterwards from the destination's balance delta
   */
  feeKnown: boolean;
};

/** What one token-program instruction does, as far as the indexer cares. */
export type TokenEffect =
  | { type: "move"; name: string; move: TokenMove }
  | {
      type: "initMint";
      name: string;
      mint: number | undefined;
      decimals: number;
      mintAuthority: string;
      freezeAuthority: string | null;
    }
  | {
      type: "initAccount";
      name: string;
      account: number | undefined;
      mint: number | undefined;
      owner: string | undefined;
      ownerIndex: number | undefined;
    }
  | {
      type: "setAuthority";
      name: string;
      target: number | undefined;
      authorityType: number;
      newAuthority: string | null;
    }
  | {
      type: "ataCreate";
      name: string;
      account: number | undefined;
      wallet: number | undefined;
      mint: number | undefined;
    }
  | { type: "other"; name: string }
  | { type: "unknown"; discriminator: string }
  | { type: "error"; discriminator: string; message: string };

/** Names of the SPL Token instruction tags (Token-2022 shares 0..24 and extends the list). */
// Stryker disable StringLiteral: equivalent, nothing reads the name of a token instruction: no row, warning or metric carries it
export const TOKEN_INSTRUCTIONS: readonly string[] = [
  "initializeMint",
  "initializeAccount",
  "initializeMultisig",
  "transfer",
  "approve",
  "revoke",
  "setAuthority",
  "mintTo",
  "burn",
  "closeAccount",
  "freezeAccount",
  "thawAccount",
  "transferChecked",
  "approveChecked",
  "mintToChecked",
  "burnChecked",
  "initializeAccount2",
  "syncNative",
  "initializeAccount3",
  "initializeMultisig2",
  "initializeMint2",
  "getAccountDataSize",
  "initializeImmutableOwner",
  "amountToUiAmount",
  "uiAmountToAmount",
];
// Stryker restore StringLiteral

/** Token-2022 extension tags 25.. (their sub-instructions are not decoded except the transfer fee ones). */
export const TOKEN_2022_EXTENSIONS: readonly string[] = [
  "initializeMintCloseAuthority",
  // Stryker disable next-line StringLiteral: equivalent, never read: tag 26 is decoded by its sub-instruction before this table
  "transferFeeExtension",
  "confidentialTransferExtension",
  "defaultAccountStateExtension",
  "reallocate",
  "memoTransferExtension",
  "createNativeMint",
  "initializeNonTransferableMint",
  "interestBearingMintExtension",
  "cpiGuardExtension",
  "initializePermanentDelegate",
  "transferHookExtension",
  "confidentialTransferFeeExtension",
  "withdrawExcessLamports",
  "metadataPointerExtension",
  "groupPointerExtension",
  "groupMemberPointerExtension",
  "confidentialMintBurnExtension",
  "scaledUiAmountExtension",
  "pausableExtension",
];

const TRANSFER_FEE_SUB: readonly string[] = [
  "initializeTransferFeeConfig",
  // Stryker disable next-line StringLiteral: equivalent, never read: sub-instruction 1 is decoded as a movement before this table
  "transferCheckedWithFee",
  "withdrawWithheldTokensFromMint",
  "withdrawWithheldTokensFromAccounts",
  "harvestWithheldTokensToMint",
  "setTransferFee",
];

/** Names shown in the README table for each program. */
export const TOKEN_DECODED: readonly string[] = [
  "initializeMint",
  "initializeMint2",
  "initializeAccount",
  "initializeAccount2",
  "initializeAccount3",
  "transfer",
  "transferChecked",
  "mintTo",
  "mintToChecked",
  "burn",
  "burnChecked",
  "closeAccount",
  "setAuthority",
];

// spl-token-metadata-interface and spl-token-group-interface instructions Token-2022 implements (8-byte discriminators)
const INTERFACE_IXS = new Map<string, string>(
  [
    "spl_token_metadata_interface:initialize_account",
    "spl_token_metadata_interface:updating_field",
    "spl_token_metadata_interface:remove_key_ix",
    "spl_token_metadata_interface:update_the_authority",
    "spl_token_metadata_interface:emitter",
    "spl_token_group_interface:initialize_token_group",
    "spl_token_group_interface:update_group_max_size",
    "spl_token_group_interface:update_authority",
    "spl_token_group_interface:initialize_member",
  ].map(
    // Stryker disable next-line ArrowFunction,StringLiteral: equivalent or fatal: the name after ":" is read by nothing; any other change throws when the module loads, which fails every decode test (the runner counts a file that fails to load as no failure)
    (s) => [createHash("sha256").update(s).digest().subarray(0, 8).toString("hex"), s.split(":")[1]!],
  ),
);

function u64(b: Uint8Array, off: number): bigint {
  // Stryker disable next-line ConditionalExpression,ArithmeticOperator: equivalent, past the end the DataView read throws a RangeError: the same decode_error, only its message differs
  if (off + 8 > b.length) throw new Error(`data too short: need ${off + 8} bytes, have ${b.length}`);
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(off, true);
}

function pubkey(b: Uint8Array, off: number): string {
  if (off + 32 > b.length) throw new Error(`data too short for a pubkey at ${off}`);
  return bs58.encode(b.subarray(off, off + 32));
}

// COption<Pubkey> as the token instruction packs it: a 1-byte tag, then 32 bytes when Some
function optPubkey(b: Uint8Array, off: number): string | null {
  // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, past the end b[off] is undefined, not 1: null either way
  if (off >= b.length) return null;
  return b[off] === 1 ? pubkey(b, off + 1) : null;
}

/** A token movement effect (the fee is known unless a Token-2022 plain transfer might carry one). */
function move(programId: string, name: string, m: Omit<TokenMove, "fee" | "feeKnown"> & { fee?: bigint }): TokenEffect {
  return {
    type: "move",
    name,
    move: {
      fee: 0n,
      feeKnown: m.fee !== undefined || m.kind !== "transfer" || programId !== TOKEN_2022_PROGRAM_ID,
      ...m,
    },
  };
}

/** Decodes one SPL Token / Token-2022 instruction; `accounts[i]` is the index of its i-th account. */
export function decodeTokenInstruction(programId: string, data: Uint8Array, accounts: number[]): TokenEffect {
  const tag = data[0];
  // Stryker disable next-line StringLiteral: equivalent, without a tag the next line returns its own discriminator
  const disc = tag === undefined ? "" : tag.toString(16).padStart(2, "0");
  // Stryker disable next-line ConditionalExpression: equivalent as false: no case matches an undefined tag, and the end of the function reports it unknown with the discriminator ""
  if (tag === undefined) return { type: "unknown", discriminator: "" };
  try {
    switch (tag) {
      case 0:
      case 20:
        return {
          type: "initMint",
          // Stryker disable next-line all: equivalent, nothing reads the name of a token instruction: no row, warning or metric carries it
          name: tag === 0 ? "initializeMint" : "initializeMint2",
          mint: accounts[0],
          decimals: data[1] ?? 0,
          mintAuthority: pubkey(data, 2),
          freezeAuthority: optPubkey(data, 34),
        };
      case 1:
        return {
          type: "initAccount",
          // Stryker disable next-line StringLiteral: equivalent, nothing reads the name of a token instruction: no row, warning or metric carries it
          name: "initializeAccount",
          account: accounts[0],
          mint: accounts[1],
          owner: undefined,
          ownerIndex: accounts[2],
        };
      // Stryker disable next-line ConditionalExpression: equivalent, falling through to initializeAccount3 gives the same effect (the same layout), only the name differs
      case 16:
        return {
          type: "initAccount",
          // Stryker disable next-line StringLiteral: equivalent, nothing reads the name of a token instruction: no row, warning or metric carries it
          name: "initializeAccount2",
          account: accounts[0],
          mint: accounts[1],
          owner: pubkey(data, 1),
          ownerIndex: undefined,
        };
      case 18:
        return {
          type: "initAccount",
          name: "initializeAccount3",
          account: accounts[0],
          mint: accounts[1],
          owner: pubkey(data, 1),
          ownerIndex: undefined,
        };
      case 3:
        return move(programId, "transfer", {
          kind: "transfer",
          source: accounts[0],
          destination: accounts[1],
          mint: undefined,
          authority: accounts[2],
          amount: u64(data, 1),
        });
      case 12:
        return move(programId, "transferChecked", {
          kind: "transfer",
          source: accounts[0],
          destination: accounts[2],
          mint: accounts[1],
          authority: accounts[3],
          amount: u64(data, 1),
        });
      case 7:
        return move(programId, "mintTo", {
          kind: "mint",
          source: undefined,
          destination: accounts[1],
          mint: accounts[0],
          authority: accounts[2],
          amount: u64(data, 1),
        });
      case 14:
        // Stryker disable next-line StringLiteral: equivalent, nothing reads the name of a token instruction: no row, warning or metric carries it (the kind below is mutated)
        return move(programId, "mintToChecked", {
          kind: "mint",
          source: undefined,
          destination: accounts[1],
          mint: accounts[0],
          authority: accounts[2],
          amount: u64(data, 1),
        });
      case 8:
        return move(programId, "burn", {
          kind: "burn",
          source: accounts[0],
          destination: undefined,
          mint: accounts[1],
          authority: accounts[2],
          amount: u64(data, 1),
        });
      case 15:
        // Stryker disable next-line StringLiteral: equivalent, nothing reads the name of a token instruction: no row, warning or metric carries it (the kind below is mutated)
        return move(programId, "burnChecked", {
          kind: "burn",
          source: accounts[0],
          destination: undefined,
          mint: accounts[1],
          authority: accounts[2],
          amount: u64(data, 1),
        });
      case 6:
        return {
          type: "setAuthority",
          name: "setAuthority",
          target: accounts[0],
          authorityType: data[1] ?? 0,
          newAuthority: optPubkey(data, 2),
        };
      case 26: {
        if (programId !== TOKEN_2022_PROGRAM_ID) break;
        const sub = data[1];
        if (sub === 1) {
          return move(programId, "transferCheckedWithFee", {
            kind: "transfer",
            source: accounts[0],
            destination: accounts[2],
            mint: accounts[1],
            authority: accounts[3],
            amount: u64(data, 2),
            fee: u64(data, 11),
          });
        }
        // Stryker disable next-line ConditionalExpression: equivalent, TRANSFER_FEE_SUB[undefined] is undefined as well
        const name = sub === undefined ? undefined : TRANSFER_FEE_SUB[sub];
        return name
          ? { type: "other", name }
          : { type: "unknown", discriminator: Buffer.from(data.subarray(0, 2)).toString("hex") };
      }
    }
    // Stryker disable next-line StringLiteral: equivalent, the decoder acts on no "other" effect: any type but move, init*, setAuthority, unknown and error is the same
    if (tag < TOKEN_INSTRUCTIONS.length) return { type: "other", name: TOKEN_INSTRUCTIONS[tag]! };
    if (programId === TOKEN_2022_PROGRAM_ID) {
      const ext = TOKEN_2022_EXTENSIONS[tag - TOKEN_INSTRUCTIONS.length];
      // Stryker disable next-line ObjectLiteral,StringLiteral: equivalent, the decoder acts on no "other" effect (the branch itself is tested)
      if (ext) return { type: "other", name: ext };
      // Stryker disable next-line ConditionalExpression: equivalent as true: the hex of fewer than 8 bytes is no key of the table
      const iface = data.length >= 8 ? INTERFACE_IXS.get(Buffer.from(data.subarray(0, 8)).toString("hex")) : undefined;
      // Stryker disable next-line ObjectLiteral,StringLiteral: equivalent, the decoder acts on no "other" effect (the branch itself is tested)
      if (iface) return { type: "other", name: iface };
      return {
        type: "unknown",
        discriminator: Buffer.from(data.subarray(0, Math.min(8, data.length))).toString("hex"),
      };
    }
    return { type: "unknown", discriminator: disc };
  } catch (err) {
    return { type: "error", discriminator: disc, message: (err as Error).message };
  }
}

/** Decodes an Associated Token Account program instruction (create, createIdempotent, recoverNested). */
export function decodeAtaInstruction(data: Uint8Array, accounts: number[]): TokenEffect {
  const tag = data.length === 0 ? 0 : data[0]!;
  if (tag === 0 || tag === 1) {
    return {
      type: "ataCreate",
      // Stryker disable next-line ConditionalExpression,EqualityOperator,StringLiteral: equivalent, nothing reads the name of a token instruction: no row, warning or metric carries it
      name: tag === 0 ? "create" : "createIdempotent",
      account: accounts[1],
      wallet: accounts[2],
      mint: accounts[3],
    };
  }
  // Stryker disable next-line all: equivalent, the decoder reads an ATA instruction only when it creates an account, and warns of none
  if (tag === 2) return { type: "other", name: "recoverNested" };
  // Stryker disable next-line all: equivalent, as above
  return { type: "unknown", discriminator: tag.toString(16).padStart(2, "0") };
}

/**
 * Fills in Token-2022 transfer fees the instructions do not carry: where a destination's decoded movements
 * exceed its balance delta and a single fee-unknown transfer credited it, the difference is that transfer's
 * withheld fee. Returns how many fees were inferred.
 * @dev the residual is only taken when 0 < residual <= amount; anything else stays a visible mismatch.
 */
export function inferTransferFees(
  moves: ReadonlyArray<TokenMove | undefined>,
  delta: (account: number) => bigint | undefined,
): number {
  const net = new Map<number, bigint>();
  const unknown = new Map<number, TokenMove[]>();
  for (const m of moves) {
    if (!m) continue;
    // Stryker disable next-line ConditionalExpression: equivalent, a credit under the key undefined is never asked for: delta(undefined) is undefined
    if (m.destination !== undefined) {
      net.set(m.destination, (net.get(m.destination) ?? 0n) + m.amount - m.fee);
      if (!m.feeKnown) unknown.set(m.destination, [...(unknown.get(m.destination) ?? []), m]);
    }
    // Stryker disable next-line ConditionalExpression: equivalent, the net under the key undefined is never read
    if (m.source !== undefined) net.set(m.source, (net.get(m.source) ?? 0n) - m.amount);
  }
  let inferred = 0;
  for (const [account, credits] of unknown) {
    if (credits.length !== 1) continue;
    const d = delta(account);
    if (d === undefined) continue;
    const residual = net.get(account)! - d;
    const m = credits[0]!;
    if (residual > 0n && residual <= m.amount) {
      m.fee = residual;
      inferred++;
    }
  }
  return inferred;
}
