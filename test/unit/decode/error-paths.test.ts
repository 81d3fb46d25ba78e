/**
 * What the decoder does with what it cannot read, each case a real transaction with one field edited: the block time
 * it does not know stays unknown, a logged event that does not decode is skipped with a warning, a token balance
 * whose amount is not an integer is left out with a warning; every row the edit does not concern is the unedited
 * transaction's.
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { type AnyIdl, type DecodedTransaction, createDecoder } from "../../../indexer/decode/index.js";
import { accountKeys, createTxView } from "../../../indexer/decode/tx-view.js";
import { PRESET_NAMES } from "../../../core/presets.js";
import type { RawBlockTransaction } from "../../../core/solana-types.js";
import { fixturePath } from "../../setup/fixtures.js";
import { type FixtureTx, allFixtureTxs, readWholeBlock, wholeBlockFiles } from "./fixture-txs.js";
import { shared } from "./shared.js";

const CLMM_IDL = JSON.parse(
  readFileSync(fixturePath("raydium-clmm", "idl", "amm_v3_idl_official.json"), "utf8"),
) as AnyIdl & { address: string };
const decoder = shared(() => createDecoder({ programs: [...PRESET_NAMES], idls: [CLMM_IDL] }));

/** The rows of a decoded transaction, without its warnings. */
function rows(d: DecodedTransaction) {
  const { warnings: _, ...rest } = d;
  return rest;
}

/** The first successful recorded transaction for which `pick` says yes. */
function find(pick: (f: FixtureTx, d: DecodedTransaction) => boolean): { f: FixtureTx; d: DecodedTransaction } {
  for (const f of allFixtureTxs()) {
    if (f.tx.meta?.err) continue;
    const d = decoder().decodeTransaction(f.tx, f);
    if (d && pick(f, d)) return { f, d };
  }
  throw new Error("no recorded transaction fits");
}

describe("decoder: block time", () => {
  test("a block time the source does not know stays null on the transaction and every row", () => {
    const { f } = find((_, d) => d.swaps.length > 0 && d.transfers.length > 0 && d.trades.length > 0);
    const d = decoder().decodeTransaction(f.tx, { slot: f.slot, blockTime: null, txIndex: f.txIndex })!;
    expect(d.transaction.blockTime).toBeNull();
    const timed = [...d.swaps, ...d.transfers, ...d.trades, ...d.liquidityEvents, ...d.programEvents];
    expect(timed.length).toBeGreaterThan(2);
    for (const r of timed) expect(r.blockTime).toBeNull();
  });

  test("a known block time is that second on the transaction and every row", () => {
    const { f } = find((_, d) => d.swaps.length > 0 && d.transfers.length > 0);
    const d = decoder().decodeTransaction(f.tx, { slot: f.slot, blockTime: 1_700_000_123, txIndex: f.txIndex })!;
    const when = new Date(1_700_000_123_000);
    expect(d.transaction.blockTime).toEqual(when);
    for (const r of [...d.swaps, ...d.transfers, ...d.trades, ...d.programEvents]) expect(r.blockTime).toEqual(when);
  });

  test("a block time left out (undefined) is unknown too, never an invalid date", () => {
    const { f } = find((_, d) => d.swaps.length > 0);
    // a block whose JSON has no blockTime field at all
    const at = { slot: f.slot, blockTime: undefined as unknown as null, txIndex: f.txIndex };
    const d = decoder().decodeTransaction(f.tx, at)!;
    expect(d.transaction.blockTime).toBeNull();
    for (const s of d.swaps) expect(s.blockTime).toBeNull();
  });

  test("a meta without its err field is a successful transaction with all its rows", () => {
    const { f, d } = find((_, d) => d.swaps.length > 0);
    const copy = structuredClone(f.tx);
    delete (copy.meta as { err?: unknown }).err;
    const e = decoder().decodeTransaction(copy, f)!;
    expect(e.transaction.success).toBe(true);
    expect(rows(e)).toEqual(rows(d));
  });

  test("a whole block without a block time decodes with null times", () => {
    const { block, slot } = readWholeBlock(wholeBlockFiles()[0]!);
    const b = decoder().decodeBlock({ ...block, blockTime: null }, slot);
    expect(b.blockTime).toBeNull();
    expect(b.transactions.length).toBeGreaterThan(10);
    for (const t of b.transactions) {
      expect(t.transaction.blockTime).toBeNull();
      for (const s of t.swaps) expect(s.blockTime).toBeNull();
    }
  });
});

describe("decoder: a logged event that does not decode", () => {
  /** A transaction whose CLMM swap logged its SwapEvent, and the index of that `Program data:` line. */
  const swapWithEvent = shared(() => {
    const { f, d } = find(
      (_, d) =>
        !d.transaction.logTruncated &&
        d.swaps.some((s) => s.dex === "raydium-clmm") &&
        d.programEvents.filter((e) => e.kind === "event").length === 1,
    );
    const logs = f.tx.meta!.logMessages!;
    const line = logs.findIndex((l) => l.startsWith("Program data: "));
    const event = d.programEvents.find((e) => e.kind === "event")!;
    expect(line).toBeGreaterThan(0);
    return { f, d, line, event };
  });

  /** The transaction with that line's payload replaced. */
  function withPayload(tx: RawBlockTransaction, line: number, base64: string): RawBlockTransaction {
    const copy = structuredClone(tx);
    copy.meta!.logMessages![line] = `Program data: ${base64}`;
    return copy;
  }

  test.each([
    ["an unknown discriminator", Buffer.alloc(16).toString("base64")],
    ["not base64 at all", "%%%%"],
  ])("%s: the event is skipped with a warning on its instruction; the other rows stand", (_, payload) => {
    const { f, d, line, event } = swapWithEvent();
    const e = decoder().decodeTransaction(withPayload(f.tx, line, payload), f)!;
    expect(e.programEvents).toEqual(d.programEvents.filter((x) => x !== event));
    expect(e.warnings).toContainEqual(
      expect.objectContaining({
        kind: "decode_error",
        programId: CLMM_IDL.address,
        instructionPath: event.instructionPath,
        signature: d.transaction.signature,
      }),
    );
    expect(e.warnings.length).toBe(d.warnings.length + 1);
    expect({ ...rows(e), programEvents: [] }).toEqual({ ...rows(d), programEvents: [] });
  });

  test("the event's own bytes with its body cut short: still one warning or a decoded prefix, never a lost row", () => {
    const { f, d, line } = swapWithEvent();
    const payload = f.tx.meta!.logMessages![line]!.slice("Program data: ".length);
    const cut = Buffer.from(payload, "base64").subarray(0, 12).toString("base64");
    const e = decoder().decodeTransaction(withPayload(f.tx, line, cut), f)!;
    expect({ ...rows(e), programEvents: [] }).toEqual({ ...rows(d), programEvents: [] });
    expect(e.programEvents.length + e.warnings.length - d.warnings.length).toBeGreaterThanOrEqual(1);
  });
});

describe("tx-view: a token balance whose amount is not an integer", () => {
  /** A transaction with a transferChecked (its mint named by the instruction) into an account with a balance. */
  const transferTx = shared(() =>
    find(
      (f, d) =>
        d.transfers.length === 1 &&
        d.tokenAccounts.length >= 2 &&
        d.warnings.length === 0 &&
        (f.tx.meta?.postTokenBalances ?? []).length === (f.tx.meta?.preTokenBalances ?? []).length,
    ),
  );

  test.each(["12.5", "", "-5", "0x10", " 7", "1e3", "1".repeat(40), 125 as unknown as string])(
    "amount %j: the account is left out of the balances with a warning; every other account is as recorded",
    (amount) => {
      const { f, d } = transferTx();
      const keys = accountKeys(f.tx);
      const copy = structuredClone(f.tx);
      const edited = copy.meta!.postTokenBalances![0]!;
      edited.uiTokenAmount.amount = amount;
      const address = keys[edited.accountIndex]!;
      const e = decoder().decodeTransaction(copy, f)!;
      expect(e.tokenAccounts).toEqual(d.tokenAccounts.filter((a) => a.address !== address));
      expect(e.warnings).toEqual([
        expect.objectContaining({ kind: "decode_error", signature: d.transaction.signature, instructionPath: "" }),
      ]);
      expect(createTxView(copy).malformedBalances).toEqual([edited.accountIndex]);
      expect(e.transaction).toEqual(d.transaction);
    },
  );

  test("a malformed pre amount leaves the account out too; a u64 max amount is read whole", () => {
    const { f, d } = transferTx();
    const keys = accountKeys(f.tx);
    const copy = structuredClone(f.tx);
    const pre = copy.meta!.preTokenBalances![0]!;
    pre.uiTokenAmount.amount = "NaN";
    const e = decoder().decodeTransaction(copy, f)!;
    expect(e.tokenAccounts.map((a) => a.address)).not.toContain(keys[pre.accountIndex]);
    expect(e.tokenAccounts.length).toBe(d.tokenAccounts.length - 1);

    const max = structuredClone(f.tx);
    const post = max.meta!.postTokenBalances![0]!;
    post.uiTokenAmount.amount = (2n ** 64n - 1n).toString();
    const m = decoder().decodeTransaction(max, f)!;
    expect(m.warnings).toEqual([]);
    expect(m.tokenAccounts.find((a) => a.address === keys[post.accountIndex])!.amount).toBe(2n ** 64n - 1n);
  });
});

describe("tx-view: balances and instructions the RPC gave incompletely", () => {
  /** A successful transaction with inner instructions and token balances on both sides. */
  const withInner = shared(() =>
    find(
      (f, d) =>
        (f.tx.meta?.innerInstructions ?? []).some((g) => g.instructions.length > 1) &&
        d.tokenAccounts.length >= 2 &&
        (f.tx.meta?.preTokenBalances ?? []).some((b) => b.owner) &&
        (f.tx.meta?.postTokenBalances ?? []).some((b) => b.owner),
    ),
  );

  test.each(["preTokenBalances", "postTokenBalances"] as const)(
    "a token balance of %s without its uiTokenAmount is left out like a malformed amount",
    (side) => {
      const { f, d } = withInner();
      const copy = structuredClone(f.tx);
      const edited = copy.meta![side]![0]!;
      delete (edited as { uiTokenAmount?: unknown }).uiTokenAmount;
      const e = decoder().decodeTransaction(copy, f)!;
      const address = accountKeys(f.tx)[edited.accountIndex];
      expect(e.tokenAccounts).toEqual(d.tokenAccounts.filter((a) => a.address !== address));
      expect(createTxView(copy).malformedBalances).toEqual([edited.accountIndex]);
    },
  );

  test("an owner missing from one side of an account's balances is taken from the other side", () => {
    const { f, d } = withInner();
    const keys = accountKeys(f.tx);
    const post = f.tx.meta!.postTokenBalances!.find(
      (b) => b.owner && f.tx.meta!.preTokenBalances!.some((p) => p.accountIndex === b.accountIndex && p.owner),
    )!;
    const address = keys[post.accountIndex]!;
    const owner = d.tokenAccounts.find((a) => a.address === address)!.owner;
    expect(owner).toBe(post.owner);
    for (const side of ["preTokenBalances", "postTokenBalances"] as const) {
      const copy = structuredClone(f.tx);
      const b = copy.meta![side]!.find((x) => x.accountIndex === post.accountIndex)!;
      delete b.owner;
      const e = decoder().decodeTransaction(copy, f)!;
      expect(e.tokenAccounts.find((a) => a.address === address)!.owner, side).toBe(owner);
    }
  });

  test("an inner instruction that is not an object is passed over; the others keep their programs and data", () => {
    const { f } = withInner();
    const before = createTxView(f.tx).ixs;
    const copy = structuredClone(f.tx);
    const group = copy.meta!.innerInstructions!.find((g) => g.instructions.length > 1)!;
    const gone = group.instructions.length - 1;
    (group.instructions as unknown[])[gone] = null;
    const after = createTxView(copy).ixs;
    expect(after.length).toBe(before.length - 1);
    // flattened in order: the top-level instruction, then its inner ones
    const removed = before.findIndex((ix) => ix.path === String(group.index)) + 1 + gone;
    expect(before[removed]!.depth).toBeGreaterThan(1);
    expect(after.map((ix) => ix.programId)).toEqual(before.filter((_, i) => i !== removed).map((ix) => ix.programId));
    expect(decoder().decodeTransaction(copy, f)).toBeDefined();
  });

  test("a CPI naming a program past the key list has no program id, and is not among the transaction's programs", () => {
    const { f, d } = withInner();
    const copy = structuredClone(f.tx);
    const group = copy.meta!.innerInstructions![0]!;
    group.instructions[0]!.programIdIndex = accountKeys(f.tx).length;
    const view = createTxView(copy);
    const ix = view.ixs.find((x) => x.path === `${group.index}.1`)!;
    expect(ix.programId).toBe("");
    const e = decoder().decodeTransaction(copy, f)!;
    expect(e.transaction.programIds.every((id) => d.transaction.programIds.includes(id))).toBe(true);
  });
});
