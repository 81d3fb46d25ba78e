/**
 * Child process that executes the token activity script (svm-script.ts) in LiteSVM and reports
 * each executed transaction to the chain over IPC: message, logs, inner instructions, balances and
 * token balances read from LiteSVM before and after, and the state of every account it touched.
 * @dev Why a child process: litesvm 0.8.0's native code leaves the x87/MMX register stack full
 * after every transaction that runs the Associated Token Account program (tag word all valid, as
 * after MMX use without EMMS). Node's own x87 code then computes NaN: V8's pretenuring step of the
 * GC sizes a hash table from it and aborts the process with `std::bad_alloc`, and optimized double
 * `%` returns a wrong result once. The chain must not share a thread with that, so LiteSVM runs here,
 * with `--no-allocation-site-pretenuring` (set by the parent) so this process does not abort either.
 */
import bs58 from "bs58";
import { ComputeBudgetProgram, PublicKey, Transaction } from "@solana/web3.js";
import { TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID } from "@solana/spl-token";
import { LiteSVM, TransactionMetadata, type FailedTransactionMetadata } from "litesvm";
import type { RawBlockTransaction, RawTokenBalance } from "../core/solana-types.js";
import { uiAmount } from "./accounts.js";
import type { FromWorker, ToWorker, WireAccount } from "./svm-protocol.js";
import { SVM_OWNERS, SVM_PAYER, svmStep } from "./svm-script.js";

const TOKEN_PROGRAMS = new Set([TOKEN_PROGRAM_ID.toBase58(), TOKEN_2022_PROGRAM_ID.toBase58()]);
const SYSVAR_OWNER = "Sysvar1111111111111111111111111111111111111";
const LAMPORTS_PER_SIGNATURE = 5000;

const send = (m: FromWorker): void => {
  process.send!(m);
};

let svm: LiteSVM | undefined;
let nextStep = 0;
let firstStep = 0;
// Test hook: abort the process (as a native crash would) on reaching this step, unless it started there.
const abortAt = process.argv.includes("--abort-at-step")
  ? Number(process.argv[process.argv.indexOf("--abort-at-step") + 1])
  : -1;
/** programs already reported (sent once, not with every transaction) */
const reportedPrograms = new Set<string>();

function init(m: Extract<ToWorker, { type: "init" }>): void {
  svm = new LiteSVM();
  nextStep = firstStep = m.nextStep;
  const restored = new Set<string>();
  for (const a of m.accounts) {
    if (a.executable || a.lamports === 0n || a.owner === SYSVAR_OWNER) continue;
    svm.setAccount(new PublicKey(a.pubkey), {
      lamports: Number(a.lamports),
      owner: new PublicKey(a.owner),
      data: a.data,
      executable: false,
      rentEpoch: 0,
    });
    restored.add(a.pubkey);
  }
  if (!restored.has(SVM_PAYER.publicKey.toBase58())) svm.airdrop(SVM_PAYER.publicKey, 1_000_000_000_000n);
  for (const o of SVM_OWNERS) if (!restored.has(o.publicKey.toBase58())) svm.airdrop(o.publicKey, 10_000_000_000n);
  send({ type: "ready", nextStep });
}

function account(s: LiteSVM, key: string): WireAccount {
  const pubkey = new PublicKey(key);
  // Program binaries are large (Token-2022 is 1.3 MB) and never change here: read them once.
  if (reportedPrograms.has(key))
    return { pubkey: key, lamports: s.getBalance(pubkey) ?? 0n, owner: "", data: new Uint8Array(0), executable: true };
  const a = s.getAccount(pubkey);
  if (!a)
    return {
      pubkey: key,
      lamports: 0n,
      owner: "11111111111111111111111111111111",
      data: new Uint8Array(0),
      executable: false,
    };
  return {
    pubkey: key,
    lamports: BigInt(a.lamports),
    owner: a.owner.toBase58(),
    data: Uint8Array.from(a.data),
    executable: a.executable,
  };
}

/** Token balances of the token accounts among `keys`, as Agave reports them. */
function tokenBalances(states: WireAccount[], s: LiteSVM): RawTokenBalance[] {
  const out: RawTokenBalance[] = [];
  states.forEach((a, accountIndex) => {
    if (!TOKEN_PROGRAMS.has(a.owner) || a.data.length < 165) return;
    // A Token-2022 account with extensions has AccountType (2 = account) at byte 165; 1 is a mint.
    if (a.data.length > 165 && a.data[165] !== 2) return;
    const data = Buffer.from(a.data);
    const mint = bs58.encode(data.subarray(0, 32));
    const decimals = s.getAccount(new PublicKey(mint))?.data[44] ?? 0;
    out.push({
      accountIndex,
      mint,
      owner: bs58.encode(data.subarray(32, 64)),
      programId: a.owner,
      uiTokenAmount: uiAmount(data.readBigUInt64LE(64), decimals),
    });
  });
  return out;
}

/** LiteSVM's Debug form of a TransactionError as the JSON shape a validator sends. */
export function errorJson(debug: string): unknown {
  const ix = /^InstructionError\((\d+), (\w+)(?:\((\d+)\))?\)$/.exec(debug);
  if (ix) return { InstructionError: [Number(ix[1]), ix[3] === undefined ? ix[2] : { [ix[2]!]: Number(ix[3]) }] };
  const withIndex = /^(\w+) \{ account_index: (\d+) \}$/.exec(debug);
  if (withIndex) return { [withIndex[1]!]: { account_index: Number(withIndex[2]) } };
  const dup = /^DuplicateInstruction\((\d+)\)$/.exec(debug);
  if (dup) return { DuplicateInstruction: Number(dup[1]) };
  return debug;
}

function execute(s: LiteSVM, step: number): FromWorker {
  const { kind, ixs, signers } = svmStep(step, (space) => s.minimumBalanceForRentExemption(BigInt(space)));
  // A fresh blockhash per transaction, and a compute-unit limit that varies with the step, keep
  // every message (so every signature) unique, also across a restart of this process.
  s.expireBlockhash();
  const tx = new Transaction({ feePayer: SVM_PAYER.publicKey, recentBlockhash: s.latestBlockhash() }).add(
    ComputeBudgetProgram.setComputeUnitLimit({ units: 200_000 + (step % 1_200_000) }),
    ...ixs,
  );
  tx.sign(SVM_PAYER, ...signers);
  const message = tx.compileMessage();
  const keys = message.accountKeys.map((k) => k.toBase58());
  const pre = keys.map((k) => account(s, k));
  const res: TransactionMetadata | FailedTransactionMetadata = s.sendTransaction(tx);
  const meta = res instanceof TransactionMetadata ? res : res.meta();
  const err = res instanceof TransactionMetadata ? null : errorJson(res.err().toString());
  const post = keys.map((k) => account(s, k));
  const innerInstructions = meta
    .innerInstructions()
    .map((list, index) => ({
      index,
      instructions: list.map((ii) => {
        const ci = ii.instruction();
        return {
          programIdIndex: ci.programIdIndex(),
          accounts: [...ci.accounts()],
          data: bs58.encode(ci.data()),
          stackHeight: ii.stackHeight(),
        };
      }),
    }))
    .filter((g) => g.instructions.length > 0);
  const ret = meta.returnData();
  const retData = ret.data();
  const raw: RawBlockTransaction = {
    transaction: {
      signatures: tx.signatures.map((sig) => bs58.encode(sig.signature!)),
      message: {
        accountKeys: keys,
        header: { ...message.header },
        recentBlockhash: message.recentBlockhash,
        instructions: message.instructions.map((ix) => ({
          programIdIndex: ix.programIdIndex,
          accounts: ix.accounts,
          data: ix.data,
          stackHeight: null,
        })),
      },
    },
    meta: {
      err,
      status: err === null ? { Ok: null } : { Err: err },
      fee: LAMPORTS_PER_SIGNATURE * message.header.numRequiredSignatures,
      preBalances: pre.map((a) => Number(a.lamports)),
      postBalances: post.map((a) => Number(a.lamports)),
      innerInstructions,
      logMessages: meta.logs(),
      preTokenBalances: tokenBalances(pre, s),
      postTokenBalances: tokenBalances(post, s),
      rewards: [],
      loadedAddresses: { writable: [], readonly: [] },
      // A validator reports return data only when the last one set is not empty.
      ...(retData.length > 0
        ? {
            returnData: {
              programId: bs58.encode(ret.programId()),
              data: [Buffer.from(retData).toString("base64"), "base64"] as [string, string],
            },
          }
        : {}),
      computeUnitsConsumed: Number(meta.computeUnitsConsumed()),
    },
    version: "legacy",
  };
  // Programs are reported the first time they appear, other accounts every time.
  const accounts = post.filter((a) => !(a.executable && reportedPrograms.has(a.pubkey)));
  for (const a of accounts) if (a.executable) reportedPrograms.add(a.pubkey);
  return { type: "tx", step, kind, raw, accounts };
}

process.on("message", (m: ToWorker) => {
  if (m.type === "init") return init(m);
  if (!svm) throw new Error("run before init");
  for (let i = 0; i < m.count; i++) {
    const step = nextStep++;
    if (step === abortAt && firstStep < abortAt) process.abort();
    try {
      send(execute(svm, step));
    } catch (err) {
      send({ type: "skip", step, message: (err as Error).stack ?? String(err) });
    }
  }
});
// The parent going away closes the channel: leave then, whatever is pending.
process.on("disconnect", () => process.exit(0));
