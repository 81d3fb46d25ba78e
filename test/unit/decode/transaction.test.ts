import { describe, expect, test } from "vitest";
import { createDecoder } from "../../../indexer/decode/index.js";
import { accountKeys, createTxView } from "../../../indexer/decode/tx-view.js";
import { PRESET_NAMES, TOKEN_PROGRAM_ID } from "../../../core/presets.js";
import { allFixtureTxs, readWholeBlock, wholeBlockFiles } from "./fixture-txs.js";
import { shared } from "./shared.js";

const txs = allFixtureTxs();
const PRECOMPILES = new Set([
  "KeccakSecp256k11111111111111111111111111111",
  "Ed25519SigVerify111111111111111111111111111",
  "Secp256r1SigVerify1111111111111111111111111",
]);
const decoder = shared(() => createDecoder({ programs: [...PRESET_NAMES] }));

describe("transaction skeleton", () => {
  test("v0 account keys are static keys, then loadedAddresses.writable, then loadedAddresses.readonly", () => {
    const f = txs.find(
      (t) =>
        (t.tx.meta?.loadedAddresses?.writable.length ?? 0) > 0 &&
        (t.tx.meta?.loadedAddresses?.readonly.length ?? 0) > 0,
    )!;
    const { accountKeys: stat } = f.tx.transaction.message;
    const { writable, readonly } = f.tx.meta!.loadedAddresses!;
    expect(accountKeys(f.tx)).toEqual([...stat, ...writable, ...readonly]);
    // the chain agrees: every token balance's mint is a token account's mint only in this order
    const keys = accountKeys(f.tx);
    for (const b of f.tx.meta!.postTokenBalances ?? []) expect(keys[b.accountIndex]).toBeDefined();
  });

  test("instructions are flattened in the order the logs invoke them, at the depth the logs show", () => {
    let checked = 0;
    for (const f of txs) {
      const logs = f.tx.meta?.logMessages ?? [];
      // broken_data_1.json is deliberately broken upstream (program indexes past the key list)
      if (logs.length === 0 || logs.includes("Log truncated") || f.tx.meta?.err || f.file.includes("broken_data"))
        continue;
      const invoked = logs.flatMap((l) => {
        const m = /^Program (\S+) invoke \[(\d+)\]$/.exec(l);
        return m ? [`${m[1]}@${m[2]}`] : [];
      });
      const view = createTxView(f.tx);
      // precompiles never log an invoke; 2022-era validators did not log the upgradeable BPF loader's either
      const silent = (id: string) =>
        PRECOMPILES.has(id) || (id.startsWith("BPFLoaderUpgradeab1e") && !invoked.some((x) => x.startsWith(id)));
      const flat = view.ixs.filter((ix) => !silent(ix.programId));
      expect(
        flat.map((ix) => `${ix.programId}@${ix.depth}`),
        f.file,
      ).toEqual(invoked);
      checked++;
    }
    expect(checked).toBeGreaterThan(500);
  });

  test("instruction paths: top level by index, CPIs numbered under their caller", () => {
    const f = txs.find((t) =>
      (t.tx.meta?.innerInstructions ?? []).some((g) => g.instructions.some((i) => i.stackHeight === 3)),
    )!;
    const view = createTxView(f.tx);
    for (const ix of view.ixs) {
      const parts = ix.path.split(".");
      expect(parts.length).toBe(ix.depth);
      if (ix.parent >= 0) expect(ix.path.startsWith(view.ixs[ix.parent]!.path + ".")).toBe(true);
    }
    expect(new Set(view.ixs.map((i) => i.path)).size).toBe(view.ixs.length);
  });

  test("the transaction row: fee payer, fee, compute units, distinct invoked programs, tx index", () => {
    const f = txs.find(
      (t) =>
        t.file.includes("transactions-from-mainnet-blocks") &&
        !t.tx.meta?.err &&
        (t.tx.meta?.innerInstructions?.length ?? 0) > 0,
    )!;
    const d = decoder().decodeTransaction(f.tx, { ...f, txIndex: 42 })!;
    const t = d.transaction;
    expect(t.signature).toBe(f.tx.transaction.signatures[0]);
    expect(t.feePayer).toBe(f.tx.transaction.message.accountKeys[0]);
    expect(t.fee).toBe(BigInt(f.tx.meta!.fee));
    expect(t.computeUnits).toBe(f.tx.meta!.computeUnitsConsumed);
    expect(t.txIndex).toBe(42);
    expect(t.blockTime).toEqual(new Date(f.blockTime! * 1000));
    expect(t.success).toBe(true);
    const invoked = new Set((f.tx.meta!.logMessages ?? []).flatMap((l) => /^Program (\S+) invoke/.exec(l)?.[1] ?? []));
    expect(new Set(t.programIds)).toEqual(invoked);
    expect(t.programIds.length).toBe(invoked.size);
  });

  test("a failed transaction is a row with success false and nothing else", () => {
    const failed = txs.filter((t) => t.tx.meta?.err && t.file.includes("FAILED"));
    expect(failed.length).toBeGreaterThan(3);
    for (const f of failed) {
      const d = decoder().decodeTransaction(f.tx, f);
      if (!d) continue;
      expect(d.transaction.success).toBe(false);
      expect(d.transaction.err).toEqual(f.tx.meta!.err);
      expect([d.transfers, d.swaps, d.pools, d.liquidityEvents, d.programEvents, d.tokens]).toEqual([
        [],
        [],
        [],
        [],
        [],
        [],
      ]);
    }
  });

  test("'Log truncated' sets log_truncated and warns, without inventing events", () => {
    const truncated = txs.filter((t) => t.tx.meta?.logMessages?.includes("Log truncated"));
    expect(truncated.length).toBeGreaterThan(0);
    for (const f of truncated) {
      const d = decoder().decodeTransaction(f.tx, f)!;
      expect(d.transaction.logTruncated).toBe(true);
      expect(d.warnings).toContainEqual({ kind: "log_truncated", signature: d.transaction.signature });
    }
  });

  test("a transaction touching no tracked program is not decoded; votes never are", () => {
    const tokenOnly = createDecoder({ programs: [TOKEN_PROGRAM_ID] });
    for (const file of wholeBlockFiles()) {
      const { block, slot } = readWholeBlock(file);
      const d = tokenOnly.decodeBlock(block, slot);
      expect(d.txCount).toBe(block.transactions.length);
      for (const t of d.transactions) expect(t.transaction.programIds).toContain(TOKEN_PROGRAM_ID);
      const withToken = block.transactions.filter((tx) =>
        createTxView(tx).ixs.some((i) => i.programId === TOKEN_PROGRAM_ID),
      ).length;
      expect(d.transactions.length).toBe(withToken);
    }
  });

  test("decoding both whole mainnet blocks does not throw and keeps tx indexes and block fields", () => {
    let total = 0;
    for (const file of wholeBlockFiles()) {
      const { block, slot } = readWholeBlock(file);
      const d = decoder().decodeBlock(block, slot);
      total += d.txCount;
      expect(d).toMatchObject({
        slot,
        parentSlot: block.parentSlot,
        blockhash: block.blockhash,
        blockTime: block.blockTime,
      });
      for (const t of d.transactions) {
        expect(block.transactions[t.transaction.txIndex]!.transaction.signatures[0]).toBe(t.transaction.signature);
        expect(t.transaction.programIds).not.toContain("Vote111111111111111111111111111111111111111");
      }
      expect(d.transactions.length).toBeGreaterThan(100);
    }
    expect(total).toBe(3307);
  });
});
