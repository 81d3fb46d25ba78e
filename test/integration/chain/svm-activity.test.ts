/**
 * `--svm-activity`: new slots carry SPL Token / Token-2022 transactions executed in LiteSVM. Read
 * back only through @solana/web3.js v1 Connection, every one decodes with @solana/spl-token's
 * helpers, its token-balance deltas are exactly what its instructions say (transfer fees included),
 * and the accounts it touched (mints, token accounts) are served by getAccountInfo.
 * @dev The executor child is aborted once at step ABORT_AT by a test hook, as a native crash would;
 * the steps served must still be exactly the script's, in order, none lost or repeated.
 */
import bs58 from "bs58";
import {
  TOKEN_2022_PROGRAM_ID,
  TOKEN_PROGRAM_ID,
  TokenInstruction,
  calculateFee,
  decodeInitializeImmutableOwnerInstruction,
  decodeInitializeTransferFeeConfigInstruction,
  decodeInstruction,
  getAccount,
  getMint,
  getTransferFeeAmount,
  getTransferFeeConfig,
  type Mint,
} from "@solana/spl-token";
import {
  Connection,
  PublicKey,
  SystemProgram,
  TransactionInstruction,
  type VersionedTransactionResponse,
  type MessageCompiledInstruction,
} from "@solana/web3.js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createChain, type Chain } from "../../../devchain/index.js";
import { SVM_MINTS, SVM_OWNERS, SVM_PAYER, svmStep } from "../../../devchain/svm-script.js";

const ABORT_AT = 20;
/** two whole rounds of the script after the three mint-creating steps */
const STEPS = 3 + 2 * 20;
const TX_PER_SLOT = 4;
const TOKEN_PROGRAMS = [TOKEN_PROGRAM_ID.toBase58(), TOKEN_2022_PROGRAM_ID.toBase58()];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What one decoded token instruction does to token balances, by token account. */
type Effect = { type: string; deltas: [string, bigint][]; mint?: string; minted?: bigint; fee?: bigint };

describe("--svm-activity", () => {
  let chain: Chain;
  let conn: Connection;
  let firstSlot: number;
  let lastSlot: number;
  let txs: VersionedTransactionResponse[] = [];
  /** mint states read through getAccountInfo as of lastSlot */
  const mints = new Map<string, Mint>();

  beforeAll(async () => {
    chain = await createChain({
      port: 0,
      fixtures: [],
      autoProduce: false,
      finalityLag: 2,
      svmActivity: true,
      svmTxPerSlot: TX_PER_SLOT,
      svmWorkerArgs: ["--abort-at-step", String(ABORT_AT)],
    });
    conn = new Connection(chain.rpcUrl, "confirmed");
    firstSlot = chain.slot("processed") + 1;
    // Produce slots until STEPS transactions are in them; the executor runs ahead in its process.
    let served = 0;
    const deadline = Date.now() + 60_000;
    while (served < STEPS) {
      if (Date.now() > deadline) throw new Error(`only ${served} of ${STEPS} svm transactions within 60 s`);
      if (chain.stats().svm_buffered! < TX_PER_SLOT && served + chain.stats().svm_buffered! < STEPS) {
        await sleep(20);
        continue;
      }
      chain.tick();
      served = chain.stats().svm_executed! - chain.stats().svm_buffered!;
    }
    lastSlot = chain.slot("processed");
    for (const m of SVM_MINTS)
      mints.set(m.key.publicKey.toBase58(), await getMint(conn, m.key.publicKey, "processed", m.program));
    // Two more slots make lastSlot confirmed; their transactions are outside the range read.
    chain.tick();
    chain.tick();
    await chain.waitForSlot(lastSlot, "confirmed");
    for (let slot = firstSlot; slot <= lastSlot; slot++) {
      const block = await conn.getBlock(slot, { maxSupportedTransactionVersion: 0, commitment: "confirmed" });
      for (const t of block?.transactions ?? []) {
        const one = await conn.getTransaction(t.transaction.signatures[0]!, {
          maxSupportedTransactionVersion: 0,
          commitment: "confirmed",
        });
        expect(one?.slot).toBe(slot);
        expect(one?.meta).toEqual(t.meta);
        txs.push(one!);
      }
    }
  }, 90_000);
  afterAll(() => chain?.close());

  test("the executor was replaced once and the served steps are the script's, in order", () => {
    expect(chain.stats().svm_restarts).toBe(1);
    expect(chain.stats().svm_skipped).toBe(0);
    expect(txs.length).toBeGreaterThanOrEqual(STEPS);
    txs.forEach((t, i) => {
      const ixs = t.transaction.message.compiledInstructions;
      const keys = t.transaction.message.staticAccountKeys.map((k) => k.toBase58());
      const expected = svmStep(i, () => 0n).ixs;
      // After the compute-unit-limit instruction: the step's instructions, same program and data.
      expect(
        ixs.slice(1).map((ix) => [keys[ix.programIdIndex], bs58.encode(ix.data)]),
        `step ${i}`,
      ).toEqual(
        expected.map((ix) => [
          ix.programId.toBase58(),
          ix.programId.equals(SystemProgram.programId) ? expect.any(String) : bs58.encode(ix.data),
        ]),
      );
    });
    expect(new Set(txs.map((t) => t.transaction.signatures[0])).size).toBe(txs.length);
  });

  test("every transaction succeeds with its programs' logs, and every invoke is closed", () => {
    for (const t of txs) {
      expect(t.meta?.err).toBeNull();
      const logs = t.meta!.logMessages!;
      const invokes = logs.filter((l) => / invoke \[\d+\]$/.test(l)).length;
      const ends = logs.filter((l) => / (success|failed: .*)$/.test(l) && l.startsWith("Program ")).length;
      expect(invokes).toBeGreaterThan(0);
      expect(ends).toBe(invokes);
      expect(t.meta!.fee).toBe(5000 * t.transaction.signatures.length);
      expect(t.meta!.computeUnitsConsumed).toBeGreaterThan(0);
    }
  });

  test("top-level and inner instructions decode with @solana/spl-token, covering every kind", () => {
    const seen = new Set<string>();
    for (const t of txs) for (const e of effects(t)) seen.add(`${e.type}@${e.program}`);
    for (const program of ["spl", "t22"]) {
      for (const type of [
        "InitializeMint2",
        "InitializeAccount3",
        "MintTo",
        "Transfer",
        "TransferChecked",
        "Burn",
        "CloseAccount",
      ]) {
        expect(seen, `${type} on ${program}`).toContain(`${type}@${program}`);
      }
    }
    expect(seen).toContain("InitializeTransferFeeConfig@t22");
    expect(seen).toContain("InitializeImmutableOwner@t22");
  });

  test("token balance deltas equal the decoded instruction amounts, transfer fees withheld", () => {
    let checked = 0;
    for (const t of txs) {
      const expected = new Map<string, bigint>();
      for (const e of effects(t))
        for (const [account, d] of e.deltas) expected.set(account, (expected.get(account) ?? 0n) + d);
      const actual = tokenDeltas(t);
      const nonZero = (m: Map<string, bigint>) => [...m].filter(([, d]) => d !== 0n).sort();
      expect(nonZero(actual), t.transaction.signatures[0]).toEqual(nonZero(expected));
      if (expected.size > 0) checked++;
    }
    expect(checked).toBeGreaterThan(20);
  });

  test("mint supply and token accounts read through getAccountInfo agree with the decoded history", async () => {
    const supply = new Map<string, bigint>();
    const fees = new Map<string, bigint>();
    for (const t of txs) {
      for (const e of effects(t)) {
        if (e.mint && e.minted) supply.set(e.mint, (supply.get(e.mint) ?? 0n) + e.minted);
        if (e.fee)
          for (const [account, d] of e.deltas) if (d > 0n) fees.set(account, (fees.get(account) ?? 0n) + e.fee);
      }
    }
    for (const m of SVM_MINTS) {
      const key = m.key.publicKey.toBase58();
      const mint = mints.get(key)!;
      expect(mint.decimals).toBe(m.decimals);
      expect(mint.supply).toBe(supply.get(key));
      expect(mint.supply).toBeGreaterThan(0n);
      expect(mint.mintAuthority?.toBase58()).toBe(SVM_PAYER.publicKey.toBase58());
    }
    const feeMint = SVM_MINTS.find((m) => m.feeBps !== undefined)!;
    const config = getTransferFeeConfig(mints.get(feeMint.key.publicKey.toBase58())!);
    expect(config?.newerTransferFee.transferFeeBasisPoints).toBe(feeMint.feeBps);
    // Bob's fee-mint account holds the withheld fees of every transfer into it.
    const bobAta = [...fees.keys()][0]!;
    expect(fees.size).toBe(1);
    const bob = await getAccount(conn, new PublicKey(bobAta), "processed", TOKEN_2022_PROGRAM_ID);
    expect(bob.owner.toBase58()).toBe(SVM_OWNERS[1].publicKey.toBase58());
    expect(getTransferFeeAmount(bob)?.withheldAmount).toBe(fees.get(bobAta));
    // The programs LiteSVM ran are accounts too, as on a cluster (Token-2022 is upgradeable there).
    const t22 = await conn.getAccountInfo(TOKEN_2022_PROGRAM_ID, "processed");
    expect(t22?.executable).toBe(true);
    expect(t22?.owner.toBase58()).toBe("BPFLoaderUpgradeab1e11111111111111111111111");
  });

  /** Decoded token effects of one transaction (top-level, then inner instructions, in order). */
  function effects(t: VersionedTransactionResponse): (Effect & { program: string })[] {
    const msg = t.transaction.message;
    const keys = msg.staticAccountKeys;
    const toIx = (c: { programIdIndex: number; accounts: number[]; data: Uint8Array }): TransactionInstruction =>
      new TransactionInstruction({
        programId: keys[c.programIdIndex]!,
        keys: c.accounts.map((i) => ({
          pubkey: keys[i]!,
          isSigner: msg.isAccountSigner(i),
          isWritable: msg.isAccountWritable(i),
        })),
        data: Buffer.from(c.data),
      });
    const all = [
      ...msg.compiledInstructions.map((c: MessageCompiledInstruction) => ({
        programIdIndex: c.programIdIndex,
        accounts: c.accountKeyIndexes,
        data: c.data,
      })),
      ...(t.meta?.innerInstructions ?? []).flatMap((g) =>
        g.instructions.map((c) => ({
          programIdIndex: c.programIdIndex,
          accounts: c.accounts,
          data: bs58.decode(c.data),
        })),
      ),
    ];
    const out: (Effect & { program: string })[] = [];
    for (const c of all) {
      const programId = keys[c.programIdIndex]!;
      if (!TOKEN_PROGRAMS.includes(programId.toBase58())) continue;
      const program = programId.equals(TOKEN_PROGRAM_ID) ? "spl" : "t22";
      const ix = toIx(c);
      const e = decodeTokenEffect(ix, programId);
      out.push({ ...e, program });
    }
    return out;
  }

  function decodeTokenEffect(ix: TransactionInstruction, programId: PublicKey): Effect {
    const type = ix.data[0];
    if (type === TokenInstruction.TransferFeeExtension) {
      const d = decodeInitializeTransferFeeConfigInstruction(ix, programId);
      expect(d.data.transferFeeBasisPoints).toBe(
        SVM_MINTS.find((m) => m.key.publicKey.equals(d.keys.mint.pubkey))?.feeBps,
      );
      return { type: "InitializeTransferFeeConfig", deltas: [] };
    }
    if (type === TokenInstruction.InitializeImmutableOwner) {
      decodeInitializeImmutableOwnerInstruction(ix, programId);
      return { type: "InitializeImmutableOwner", deltas: [] };
    }
    // GetAccountDataSize (an ATA program query) has no decoder in @solana/spl-token and moves nothing.
    if (type === TokenInstruction.GetAccountDataSize) return { type: "GetAccountDataSize", deltas: [] };
    const d = decodeInstruction(ix, programId);
    const name = TokenInstruction[d.data.instruction]!;
    const k = d.keys as Record<string, { pubkey: PublicKey } | undefined>;
    const key = (n: string): string => k[n]!.pubkey.toBase58();
    const amount = "amount" in d.data ? BigInt(d.data.amount as bigint | number) : 0n;
    switch (d.data.instruction) {
      case TokenInstruction.MintTo:
        return { type: name, deltas: [[key("destination"), amount]], mint: key("mint"), minted: amount };
      case TokenInstruction.Burn:
        return { type: name, deltas: [[key("account"), -amount]], mint: key("mint"), minted: -amount };
      case TokenInstruction.Transfer:
        return {
          type: name,
          deltas: [
            [key("source"), -amount],
            [key("destination"), amount],
          ],
        };
      case TokenInstruction.TransferChecked: {
        const mint = mints.get(key("mint"));
        const config = mint ? getTransferFeeConfig(mint) : null;
        const fee = config ? calculateFee(config.newerTransferFee, amount) : 0n;
        return {
          type: name,
          deltas: [
            [key("source"), -amount],
            [key("destination"), amount - fee],
          ],
          fee,
        };
      }
      case TokenInstruction.InitializeMint2:
      case TokenInstruction.InitializeAccount3:
      case TokenInstruction.CloseAccount:
        return { type: name, deltas: [] };
      default:
        throw new Error(`unexpected token instruction ${name}`);
    }
  }
});

/** post - pre token amount of every token account in the meta (a missing side counts as zero). */
function tokenDeltas(t: VersionedTransactionResponse): Map<string, bigint> {
  const keys = t.transaction.message.staticAccountKeys.map((k) => k.toBase58());
  const out = new Map<string, bigint>();
  for (const [list, sign] of [
    [t.meta?.preTokenBalances, -1n],
    [t.meta?.postTokenBalances, 1n],
  ] as const) {
    for (const b of list ?? []) {
      const account = keys[b.accountIndex]!;
      out.set(account, (out.get(account) ?? 0n) + sign * BigInt(b.uiTokenAmount.amount));
    }
  }
  return out;
}
