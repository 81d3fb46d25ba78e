/**
 * Live token activity executed by the real SPL Token and Token-2022 programs in LiteSVM: mints
 * (incl. a Token-2022 transfer-fee mint), associated token accounts, mintTo, transfer,
 * transferChecked, burn and closeAccount. Each executed transaction becomes a json-encoded
 * TxRecord with the logs, inner instructions, balances and token balances the programs produced.
 * @dev Steps run from an endless script, `txPerSlot` per slot. Touched accounts are copied into the
 * chain's AccountStore so getAccountInfo serves them.
 * @dev KNOWN BREAKAGE: litesvm 0.8.0 (linux x64 prebuilt) aborts the whole process with
 * `terminate called after throwing an instance of 'std::bad_alloc'` after executing SPL Token
 * instructions: at process exit, and after a few transactions during a run. Reproduced with a
 * bare LiteSVM script (mint, ATA, mintTo, transfer, then exit), so it is not this module. Until
 * that is fixed or LiteSVM runs in a disposable child process, --svm-activity is not usable.
 */
import bs58 from "bs58";
import { ComputeBudgetProgram, Keypair, PublicKey, SystemProgram, Transaction, type TransactionInstruction } from "@solana/web3.js";
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
import { LiteSVM, TransactionMetadata, type FailedTransactionMetadata } from "litesvm";
import type { RawBlockTransaction, RawTokenBalance } from "../../indexer/solana-types.js";
import { uiAmount, type AccountStore } from "./accounts.js";
import { createTxRecord, type TxRecord } from "./tx-record.js";

type MintSpec = { name: string; program: PublicKey; decimals: number; feeBps?: number; maxFee?: bigint };

const MINTS: MintSpec[] = [
  { name: "spl", program: TOKEN_PROGRAM_ID, decimals: 6 },
  { name: "t22", program: TOKEN_2022_PROGRAM_ID, decimals: 9 },
  { name: "t22-fee", program: TOKEN_2022_PROGRAM_ID, decimals: 6, feeBps: 250, maxFee: 1_000_000_000n },
];

/** Derives a deterministic keypair so runs are reproducible. */
const keypair = (label: string): Keypair => Keypair.fromSeed(Uint8Array.from(Buffer.from(label.padEnd(32, "#")).subarray(0, 32)));

/** Creates the activity generator over a fresh LiteSVM. */
export function createSvmActivity(deps: { accounts: AccountStore; txPerSlot: number }) {
  const svm = new LiteSVM();
  const payer = keypair("slotline-svm-payer");
  const owners = [keypair("slotline-svm-alice"), keypair("slotline-svm-bob"), keypair("slotline-svm-carol")];
  svm.airdrop(payer.publicKey, 1_000_000_000_000n);
  for (const o of owners) svm.airdrop(o.publicKey, 10_000_000_000n);
  const mints = MINTS.map((m) => ({ ...m, key: keypair(`slotline-svm-mint-${m.name}`) }));

  /** One step: instructions and extra signers. */
  type Step = { ixs: TransactionInstruction[]; signers: Keypair[] };

  function* script(): Generator<Step> {
    for (const m of mints) {
      const ext = m.feeBps !== undefined ? [ExtensionType.TransferFeeConfig] : [];
      const space = getMintLen(ext);
      const ixs: TransactionInstruction[] = [
        SystemProgram.createAccount({
          fromPubkey: payer.publicKey,
          newAccountPubkey: m.key.publicKey,
          space,
          lamports: Number(svm.minimumBalanceForRentExemption(BigInt(space))),
          programId: m.program,
        }),
      ];
      if (m.feeBps !== undefined) {
        ixs.push(createInitializeTransferFeeConfigInstruction(m.key.publicKey, payer.publicKey, payer.publicKey, m.feeBps, m.maxFee!, m.program));
      }
      ixs.push(createInitializeMint2Instruction(m.key.publicKey, m.decimals, payer.publicKey, null, m.program));
      yield { ixs, signers: [m.key] };
    }
    for (let round = 1; ; round++) {
      for (const m of mints) {
        const mint = m.key.publicKey;
        const [a, b, c] = owners.map((o) => getAssociatedTokenAddressSync(mint, o.publicKey, false, m.program));
        yield {
          ixs: [a!, b!].map((ata, i) => createAssociatedTokenAccountIdempotentInstruction(payer.publicKey, ata, owners[i]!.publicKey, mint, m.program)),
          signers: [],
        };
        const unit = 10n ** BigInt(m.decimals);
        yield { ixs: [createMintToInstruction(mint, a!, payer.publicKey, 1000n * unit * BigInt(round), [], m.program)], signers: [] };
        // Token-2022 refuses a plain Transfer on a transfer-fee mint; it needs the checked form.
        if (m.feeBps === undefined) {
          yield { ixs: [createTransferInstruction(a!, b!, owners[0]!.publicKey, 125n * unit + BigInt(round), [], m.program)], signers: [owners[0]!] };
        }
        yield {
          ixs: [createTransferCheckedInstruction(a!, mint, b!, owners[0]!.publicKey, 300n * unit + BigInt(round), m.decimals, [], m.program)],
          signers: [owners[0]!],
        };
        yield { ixs: [createBurnInstruction(b!, mint, owners[1]!.publicKey, 17n * unit, [], m.program)], signers: [owners[1]!] };
        yield { ixs: [createAssociatedTokenAccountIdempotentInstruction(payer.publicKey, c!, owners[2]!.publicKey, mint, m.program)], signers: [] };
        yield { ixs: [createCloseAccountInstruction(c!, owners[2]!.publicKey, owners[2]!.publicKey, [], m.program)], signers: [owners[2]!] };
      }
    }
  }
  const steps = script();
  let counter = 0;

  const tokenBalances = (keys: string[]): RawTokenBalance[] => {
    const out: RawTokenBalance[] = [];
    keys.forEach((k, accountIndex) => {
      const acc = svm.getAccount(new PublicKey(k));
      if (!acc || acc.data.length < 165) return;
      const owner = acc.owner.toBase58();
      if (owner !== TOKEN_PROGRAM_ID.toBase58() && owner !== TOKEN_2022_PROGRAM_ID.toBase58()) return;
      if (acc.data.length > 165 && acc.data[165] !== 2) return; // a Token-2022 mint, not an account
      const data = Buffer.from(acc.data);
      const mint = bs58.encode(data.subarray(0, 32));
      const mintAcc = svm.getAccount(new PublicKey(mint));
      const decimals = mintAcc ? mintAcc.data[44]! : 0;
      out.push({ accountIndex, mint, owner: bs58.encode(data.subarray(32, 64)), programId: owner, uiTokenAmount: uiAmount(data.readBigUInt64LE(64), decimals) });
    });
    return out;
  };

  const balances = (keys: string[]): number[] => keys.map((k) => Number(svm.getAccount(new PublicKey(k))?.lamports ?? 0n));

  const execute = (step: Step, slot: number): TxRecord => {
    const tx = new Transaction({ feePayer: payer.publicKey, recentBlockhash: svm.latestBlockhash() }).add(
      ComputeBudgetProgram.setComputeUnitLimit({ units: 200_000 + (counter++ % 100_000) }),
      ...step.ixs,
    );
    tx.sign(payer, ...step.signers);
    const message = tx.compileMessage();
    const keys = message.accountKeys.map((k) => k.toBase58());
    const preBalances = balances(keys);
    const preTokenBalances = tokenBalances(keys);
    const res: TransactionMetadata | FailedTransactionMetadata = svm.sendTransaction(tx);
    const meta = res instanceof TransactionMetadata ? res : res.meta();
    const err = res instanceof TransactionMetadata ? null : String(res.toString());
    const innerInstructions = meta
      .innerInstructions()
      .map((list, index) => ({
        index,
        instructions: list.map((ii) => {
          const ci = ii.instruction();
          return { programIdIndex: ci.programIdIndex(), accounts: [...ci.accounts()], data: bs58.encode(ci.data()), stackHeight: ii.stackHeight() };
        }),
      }))
      .filter((g) => g.instructions.length > 0);
    const raw: RawBlockTransaction = {
      transaction: {
        signatures: tx.signatures.map((s) => bs58.encode(s.signature!)),
        message: {
          accountKeys: keys,
          header: message.header,
          recentBlockhash: message.recentBlockhash,
          instructions: message.instructions.map((ix) => ({ programIdIndex: ix.programIdIndex, accounts: ix.accounts, data: ix.data, stackHeight: null })),
        },
      },
      meta: {
        err,
        status: err === null ? { Ok: null } : { Err: err },
        fee: 5000 * tx.signatures.length,
        preBalances,
        postBalances: balances(keys),
        innerInstructions,
        logMessages: meta.logs(),
        preTokenBalances,
        postTokenBalances: tokenBalances(keys),
        rewards: [],
        loadedAddresses: { writable: [], readonly: [] },
        computeUnitsConsumed: Number(meta.computeUnitsConsumed()),
      },
      version: "legacy",
    };
    for (const k of keys) {
      const acc = svm.getAccount(new PublicKey(k));
      deps.accounts.set(k, acc ? { lamports: Number(acc.lamports), owner: acc.owner.toBase58(), data: Buffer.from(acc.data), executable: acc.executable, rentEpoch: 18446744073709551615n } : null);
    }
    void slot;
    return createTxRecord(raw);
  };

  return {
    /** Executes the next `txPerSlot` steps for `slot` and returns their records in order. */
    next(slot: number, _blockhash: string): TxRecord[] {
      // @dev litesvm 0.8.0 aborts the process (std::bad_alloc) in expireBlockhash() and in
      // returnData(); the blockhash therefore stays fixed and a compute-unit-limit instruction
      // with a counter keeps every message, and so every signature, unique.
      void slot;
      const out: TxRecord[] = [];
      for (let i = 0; i < deps.txPerSlot; i++) out.push(execute(steps.next().value as Step, slot));
      return out;
    },
    /** The mints this activity creates, by name. */
    mints: Object.fromEntries(mints.map((m) => [m.name, { mint: m.key.publicKey.toBase58(), program: m.program.toBase58(), decimals: m.decimals }])),
  };
}
