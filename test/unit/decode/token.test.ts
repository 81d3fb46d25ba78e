import bs58 from "bs58";
import { describe, expect, test } from "vitest";
import { createDecoder } from "../../../indexer/decode/index.js";
import { decodeTokenInstruction } from "../../../indexer/decode/programs/token-program/index.js";
import { accountKeys } from "../../../indexer/decode/tx-view.js";
import { PRESET_NAMES, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID } from "../../../core/presets.js";
import type { RawBlockTransaction } from "../../../core/solana-types.js";
import { allInstructions, tokenDeltas } from "./chain-accounting.js";
import { allFixtureTxs } from "./fixture-txs.js";
import { tokenAccountMismatches } from "./oracles.js";
import { shared } from "./shared.js";

const txs = allFixtureTxs();
const all = shared(() => createDecoder({ programs: [...PRESET_NAMES] }));
const tokenOnly = shared(() => createDecoder({ programs: ["spl-token", "token-2022"] }));
const groups = [...new Set(txs.map((f) => `${f.program}/${f.folder}`))].sort();

describe("token transfers against the token balance deltas", () => {
  test.each(groups)("%s: per token account, transfers in - out + mints - burns == balance delta", (group) => {
    let checked = 0;
    const bad: string[] = [];
    for (const f of txs) {
      if (`${f.program}/${f.folder}` !== group) continue;
      const d = all().decodeTransaction(f.tx, f);
      if (!d?.transaction.success) continue;
      checked++;
      bad.push(...tokenAccountMismatches(f.tx, d).map((m) => `${f.file} ${d.transaction.signature}: ${m}`));
    }
    expect(bad).toEqual([]);
    if (!/devnet|system-program/.test(group))
      expect(checked, "no decoded transaction in this folder").toBeGreaterThan(0);
  });

  test("the token presets alone give the same transfers as all presets", () => {
    for (const f of txs.slice(0, 800)) {
      const a = all().decodeTransaction(f.tx, f);
      const b = tokenOnly().decodeTransaction(f.tx, f);
      expect(b?.transfers ?? [], f.file).toEqual(a?.transfers ?? []);
    }
  });

  test("owners come from the token balances, mints from the instruction or the balances", () => {
    let n = 0;
    for (const f of txs) {
      const d = all().decodeTransaction(f.tx, f);
      if (!d) continue;
      const deltas = tokenDeltas(f.tx);
      for (const t of d.transfers) {
        const side = t.destination ?? t.source!;
        const chain = deltas.get(side);
        if (!chain) continue;
        n++;
        expect(t.mint, f.file).toBe(chain.mint);
        if (t.destination && chain.owner) expect(t.destinationOwner).toBe(chain.owner);
      }
    }
    expect(n).toBeGreaterThan(500);
  });

  test("tokens seen carry the program and decimals the balances report", () => {
    for (const f of txs.slice(0, 1500)) {
      const d = all().decodeTransaction(f.tx, f);
      if (!d?.transaction.success) continue;
      for (const b of f.tx.meta?.postTokenBalances ?? []) {
        const t = d.tokens.find((x) => x.mint === b.mint)!;
        expect(t, `${f.file} ${b.mint}`).toBeDefined();
        expect(t.decimals).toBe(b.uiTokenAmount.decimals);
        if (b.programId) expect(t.program).toBe(b.programId === TOKEN_2022_PROGRAM_ID ? "token-2022" : "spl-token");
      }
    }
  });
});

/** A real transferChecked instruction from the fixtures, with its transaction. */
function realTransferChecked(programId: string): { tx: RawBlockTransaction; data: Uint8Array; accounts: number[] } {
  for (const f of txs) {
    const ix = f.tx.transaction.message.instructions.find(
      (i) => accountKeys(f.tx)[i.programIdIndex] === programId && bs58.decode(i.data)[0] === 12,
    );
    if (ix && !f.tx.meta?.err) return { tx: f.tx, data: bs58.decode(ix.data), accounts: ix.accounts };
  }
  throw new Error("no transferChecked in the fixtures");
}

describe("token instruction layouts", () => {
  test("u64 max survives as a bigint (a real transferChecked with its amount set to 2^64-1)", () => {
    const { tx, data, accounts } = realTransferChecked(TOKEN_PROGRAM_ID);
    const mutated = Uint8Array.from(data);
    mutated.fill(0xff, 1, 9);
    const e = decodeTokenInstruction(TOKEN_PROGRAM_ID, mutated, accounts);
    expect(e).toMatchObject({
      type: "move",
      name: "transferChecked",
      move: { amount: 18446744073709551615n, fee: 0n },
    });
    // and end to end: the transaction's row carries it unchanged
    const top = tx.transaction.message.instructions.findIndex((i) => i.data === bs58.encode(data));
    const copy = structuredClone(tx);
    copy.transaction.message.instructions[top]!.data = bs58.encode(mutated);
    const d = all().decodeTransaction(copy, { slot: 1, blockTime: null, txIndex: 0 })!;
    expect(d.transfers.find((t) => t.instructionPath === String(top))!.amount).toBe(2n ** 64n - 1n);
  });

  test("transferCheckedWithFee: the fee is recorded and the destination is credited amount - fee", () => {
    const { data, accounts } = realTransferChecked(TOKEN_2022_PROGRAM_ID);
    // TransferFeeExtension (26) / TransferCheckedWithFee (1): amount u64, decimals u8, fee u64, same accounts
    const withFee = new Uint8Array(19);
    withFee.set([26, 1]);
    withFee.set(data.subarray(1, 10), 2);
    new DataView(withFee.buffer).setBigUint64(11, 1234n, true);
    const e = decodeTokenInstruction(TOKEN_2022_PROGRAM_ID, withFee, accounts);
    const amount = new DataView(data.buffer, data.byteOffset).getBigUint64(1, true);
    expect(e).toMatchObject({
      type: "move",
      name: "transferCheckedWithFee",
      move: { amount, fee: 1234n, feeKnown: true, source: accounts[0], destination: accounts[2] },
    });
  });

  test("initializeMint2, setAuthority and initializeAccount3 decode from real instructions", () => {
    const names = new Set<string>();
    for (const f of txs) {
      for (const { programId, ix } of allInstructions(f.tx)) {
        if (programId !== TOKEN_PROGRAM_ID && programId !== TOKEN_2022_PROGRAM_ID) continue;
        const e = decodeTokenInstruction(programId, bs58.decode(ix.data), ix.accounts);
        expect(e.type, `${f.file}`).not.toBe("error");
        expect(e.type, `${f.file}`).not.toBe("unknown");
        if ("name" in e) names.add(e.name);
      }
    }
    for (const n of [
      "transfer",
      "transferChecked",
      "mintTo",
      "burn",
      "closeAccount",
      "initializeAccount3",
      "initializeMint2",
      "setAuthority",
      "syncNative",
    ]) {
      expect(names, n).toContain(n);
    }
  });

  test("a Token-2022 fee the instruction does not carry is taken from the destination's delta", () => {
    const f = txs.find((t) => t.file.endsWith("tokenExtensions__swapV2+TransferFee.json"))!;
    const d = all().decodeTransaction(f.tx, f)!;
    const withFee = d.transfers.filter((t) => t.fee! > 0n);
    expect(withFee.length).toBeGreaterThan(0);
    for (const t of withFee) expect(t.amount - t.fee!).toBe(tokenDeltas(f.tx).get(t.destination!)!.delta);
  });
});
