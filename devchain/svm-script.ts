/**
 * The deterministic token activity script run in LiteSVM: step `i` is a pure function of `i`, so
 * a restarted executor continues exactly where the last one stopped.
 * @dev Three setup steps create the mints (SPL Token, Token-2022, Token-2022 with a transfer fee);
 * then every round runs, per mint: create two associated token accounts (idempotent), mintTo,
 * transfer (not on the fee mint: Token-2022 refuses it there), transferChecked, burn, create a third
 * account and close it. Amounts depend on the round so every round's messages differ.
 */
import { Keypair, PublicKey, SystemProgram, type TransactionInstruction } from "@solana/web3.js";
import {
  ExtensionType,
  TOKEN_2022_PROGRAM_ID,
  TOKEN_PROGRAM_ID,
  createAssociatedTokenAccountIdempotentInstruction,
  createBurnInstruction,
  createCloseAccountInstruction,
  createInitializeMint2Instruction,
  createInitializeTransferFeeConfigInstruction,
  createMintToInstruction,
  createTransferCheckedInstruction,
  createTransferInstruction,
  getAssociatedTokenAddressSync,
  getMintLen,
} from "@solana/spl-token";

/** One mint of the script. */
export type SvmMint = {
  name: string;
  program: PublicKey;
  decimals: number;
  feeBps?: number;
  maxFee?: bigint;
  key: Keypair;
};

/** One step: its instructions and the signers besides the fee payer. */
export type SvmStep = { kind: string; ixs: TransactionInstruction[]; signers: Keypair[] };

/** Derives a deterministic keypair so runs are reproducible. */
const keypair = (label: string): Keypair =>
  Keypair.fromSeed(Uint8Array.from(Buffer.from(label.padEnd(32, "#")).subarray(0, 32)));

/** The fee payer and mint authority of every step. */
export const SVM_PAYER = keypair("slotline-svm-payer");
/** Token account owners: alice receives mints, bob receives transfers, carol's account is closed. */
export const SVM_OWNERS = [
  keypair("slotline-svm-alice"),
  keypair("slotline-svm-bob"),
  keypair("slotline-svm-carol"),
] as const;

/** The script's mints. */
export const SVM_MINTS: SvmMint[] = [
  { name: "spl", program: TOKEN_PROGRAM_ID, decimals: 6, key: keypair("slotline-svm-mint-spl") },
  { name: "t22", program: TOKEN_2022_PROGRAM_ID, decimals: 9, key: keypair("slotline-svm-mint-t22") },
  {
    name: "t22-fee",
    program: TOKEN_2022_PROGRAM_ID,
    decimals: 6,
    feeBps: 250,
    maxFee: 1_000_000_000n,
    key: keypair("slotline-svm-mint-t22-fee"),
  },
];

const SETUP_STEPS = SVM_MINTS.length;

/** Builds the steps of one round (round >= 1). */
function roundSteps(round: number): SvmStep[] {
  const [alice, bob, carol] = SVM_OWNERS;
  const out: SvmStep[] = [];
  for (const m of SVM_MINTS) {
    const mint = m.key.publicKey;
    const [a, b, c] = SVM_OWNERS.map((o) => getAssociatedTokenAddressSync(mint, o.publicKey, false, m.program)) as [
      PublicKey,
      PublicKey,
      PublicKey,
    ];
    const unit = 10n ** BigInt(m.decimals);
    const ata = (account: PublicKey, owner: Keypair): TransactionInstruction =>
      createAssociatedTokenAccountIdempotentInstruction(SVM_PAYER.publicKey, account, owner.publicKey, mint, m.program);
    out.push({ kind: "createAccounts", ixs: [ata(a, alice), ata(b, bob)], signers: [] });
    out.push({
      kind: "mintTo",
      ixs: [createMintToInstruction(mint, a, SVM_PAYER.publicKey, 1000n * unit * BigInt(round), [], m.program)],
      signers: [],
    });
    if (m.feeBps === undefined) {
      out.push({
        kind: "transfer",
        ixs: [createTransferInstruction(a, b, alice.publicKey, 125n * unit + BigInt(round), [], m.program)],
        signers: [alice],
      });
    }
    out.push({
      kind: "transferChecked",
      ixs: [
        createTransferCheckedInstruction(
          a,
          mint,
          b,
          alice.publicKey,
          300n * unit + BigInt(round),
          m.decimals,
          [],
          m.program,
        ),
      ],
      signers: [alice],
    });
    out.push({
      kind: "burn",
      ixs: [createBurnInstruction(b, mint, bob.publicKey, 17n * unit + BigInt(round), [], m.program)],
      signers: [bob],
    });
    out.push({ kind: "createAccount", ixs: [ata(c, carol)], signers: [] });
    out.push({
      kind: "closeAccount",
      ixs: [createCloseAccountInstruction(c, carol.publicKey, carol.publicKey, [], m.program)],
      signers: [carol],
    });
  }
  return out;
}

const ROUND_LENGTH = roundSteps(1).length;
let cached: { round: number; steps: SvmStep[] } | undefined;

/** Step `i` of the script; `rent(space)` gives the rent-exempt minimum for a new mint account. */
export function svmStep(i: number, rent: (space: number) => bigint): SvmStep {
  if (i < SETUP_STEPS) {
    const m = SVM_MINTS[i]!;
    const space = getMintLen(m.feeBps !== undefined ? [ExtensionType.TransferFeeConfig] : []);
    const ixs: TransactionInstruction[] = [
      SystemProgram.createAccount({
        fromPubkey: SVM_PAYER.publicKey,
        newAccountPubkey: m.key.publicKey,
        space,
        lamports: Number(rent(space)),
        programId: m.program,
      }),
    ];
    if (m.feeBps !== undefined) {
      ixs.push(
        createInitializeTransferFeeConfigInstruction(
          m.key.publicKey,
          SVM_PAYER.publicKey,
          SVM_PAYER.publicKey,
          m.feeBps,
          m.maxFee!,
          m.program,
        ),
      );
    }
    ixs.push(createInitializeMint2Instruction(m.key.publicKey, m.decimals, SVM_PAYER.publicKey, null, m.program));
    return { kind: "createMint", ixs, signers: [m.key] };
  }
  const k = i - SETUP_STEPS;
  const round = Math.floor(k / ROUND_LENGTH) + 1;
  // Deriving the round's addresses costs a few hash and curve checks: build each round once.
  if (cached?.round !== round) cached = { round, steps: roundSteps(round) };
  return cached.steps[k % ROUND_LENGTH]!;
}
