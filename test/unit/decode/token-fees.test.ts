/**
 * Token-2022's transfer fee: the TransferFeeExtension's sub-instructions by name, transferCheckedWithFee's fee from its
 * data, and the guard on inferring a fee the instruction does not carry from the destination's balance delta. Each
 * case starts from a real instruction or a real transfer of the fixtures.
 */
import bs58 from "bs58";
import { describe, expect, test } from "vitest";
import { createDecoder } from "../../../indexer/decode/index.js";
import {
  type TokenMove,
  decodeTokenInstruction,
  inferTransferFees,
} from "../../../indexer/decode/programs/token-program/index.js";
import { accountKeys } from "../../../indexer/decode/tx-view.js";
import { PRESET_NAMES, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID } from "../../../core/presets.js";
import { tokenDeltas } from "./chain-accounting.js";
import { allFixtureTxs } from "./fixture-txs.js";
import { shared } from "./shared.js";

const decoder = shared(() => createDecoder({ programs: [...PRESET_NAMES] }));

/** A real Token-2022 transferChecked: its data and account indexes. */
function realTransferChecked(): { data: Uint8Array; accounts: number[] } {
  for (const f of allFixtureTxs()) {
    const keys = accountKeys(f.tx);
    const ix = f.tx.transaction.message.instructions.find(
      (i) => keys[i.programIdIndex] === TOKEN_2022_PROGRAM_ID && bs58.decode(i.data)[0] === 12,
    );
    if (ix && !f.tx.meta?.err) return { data: bs58.decode(ix.data), accounts: ix.accounts };
  }
  throw new Error("no Token-2022 transferChecked in the fixtures");
}

/** The real transfer whose fee the decoder inferred: its amount, fee and the destination's delta. */
const inferred = shared(() => {
  const f = allFixtureTxs().find((t) => t.file.endsWith("tokenExtensions__swapV2+TransferFee.json"))!;
  const d = decoder().decodeTransaction(f.tx, f)!;
  const t = d.transfers.find((x) => x.fee! > 0n)!;
  return { amount: t.amount, fee: t.fee!, delta: tokenDeltas(f.tx).get(t.destination!)!.delta };
});

/** A Token-2022 transfer into account 2 with no fee in its data. */
const credit = (amount: bigint): TokenMove => ({
  kind: "transfer",
  source: 1,
  destination: 2,
  mint: undefined,
  authority: 0,
  amount,
  fee: 0n,
  feeKnown: false,
});

describe("Token-2022 transfer fee extension (26)", () => {
  test.each([
    [0, "initializeTransferFeeConfig"],
    [2, "withdrawWithheldTokensFromMint"],
    [3, "withdrawWithheldTokensFromAccounts"],
    [4, "harvestWithheldTokensToMint"],
    [5, "setTransferFee"],
  ])("sub-instruction %i is %s, which moves nothing the rows record", (sub, name) => {
    const { accounts } = realTransferChecked();
    expect(decodeTokenInstruction(TOKEN_2022_PROGRAM_ID, Uint8Array.from([26, sub, 0, 0]), accounts)).toEqual({
      type: "other",
      name,
    });
  });

  test("an unknown sub-instruction is reported by its two bytes; tag 26 is not SPL Token's", () => {
    const { accounts } = realTransferChecked();
    expect(decodeTokenInstruction(TOKEN_2022_PROGRAM_ID, Uint8Array.from([26, 9]), accounts)).toEqual({
      type: "unknown",
      discriminator: "1a09",
    });
    expect(decodeTokenInstruction(TOKEN_2022_PROGRAM_ID, Uint8Array.from([26]), accounts)).toMatchObject({
      type: "unknown",
    });
    expect(decodeTokenInstruction(TOKEN_PROGRAM_ID, Uint8Array.from([26, 1]), accounts)).toEqual({
      type: "unknown",
      discriminator: "1a",
    });
  });

  test("transferCheckedWithFee (26/1) reads amount at 2 and fee at 11, with the transferChecked accounts", () => {
    const { data, accounts } = realTransferChecked();
    const b = new Uint8Array(19);
    b.set([26, 1]);
    b.set(data.subarray(1, 10), 2);
    new DataView(b.buffer).setBigUint64(11, 77n, true);
    const amount = new DataView(data.buffer, data.byteOffset).getBigUint64(1, true);
    expect(decodeTokenInstruction(TOKEN_2022_PROGRAM_ID, b, accounts)).toEqual({
      type: "move",
      name: "transferCheckedWithFee",
      move: {
        kind: "transfer",
        source: accounts[0],
        destination: accounts[2],
        mint: accounts[1],
        authority: accounts[3],
        amount,
        fee: 77n,
        feeKnown: true,
      },
    });
    // cut before the fee: an error, never a fee of 0
    expect(decodeTokenInstruction(TOKEN_2022_PROGRAM_ID, b.subarray(0, 15), accounts)).toMatchObject({
      type: "error",
      discriminator: "1a",
    });
  });

  test("a plain transfer's fee is unknown only on Token-2022; mints and burns always know theirs", () => {
    const { data, accounts } = realTransferChecked();
    const feeKnown = (programId: string, tag: number) => {
      const e = decodeTokenInstruction(programId, Uint8Array.from([tag, ...data.subarray(1)]), accounts);
      return e.type === "move" ? e.move.feeKnown : undefined;
    };
    expect(feeKnown(TOKEN_2022_PROGRAM_ID, 12)).toBe(false);
    expect(feeKnown(TOKEN_2022_PROGRAM_ID, 3)).toBe(false);
    expect(feeKnown(TOKEN_PROGRAM_ID, 12)).toBe(true);
    expect(feeKnown(TOKEN_2022_PROGRAM_ID, 7)).toBe(true);
    expect(feeKnown(TOKEN_2022_PROGRAM_ID, 15)).toBe(true);
  });
});

describe("inferring a Token-2022 fee from the destination's delta", () => {
  test("the recorded transfer: the residual between what was sent and what arrived is the fee", () => {
    const { amount, fee, delta } = inferred();
    expect(delta).toBe(amount - fee);
    const m = credit(amount);
    expect(inferTransferFees([m], (i) => (i === 2 ? delta : undefined))).toBe(1);
    expect(m.fee).toBe(fee);
  });

  test("the whole amount withheld is still a fee; more than the amount, none, or a negative residual is not", () => {
    const { amount } = inferred();
    const cases: [bigint, bigint][] = [
      [0n, amount], // all withheld
      [amount, 0n], // arrived whole
      [amount + 1n, 0n], // more arrived than was sent: something else credited it
      [-1n, 0n], // residual above the amount
    ];
    for (const [delta, fee] of cases) {
      const m = credit(amount);
      expect(inferTransferFees([m], () => delta)).toBe(fee > 0n ? 1 : 0);
      expect(m.fee, `delta ${delta}`).toBe(fee);
    }
  });

  test("two fee-unknown credits to one account, a known fee, or no delta: nothing is inferred", () => {
    const { amount, fee, delta } = inferred();
    const two = [credit(amount), credit(amount)];
    expect(inferTransferFees(two, () => 2n * amount - 2n * fee)).toBe(0);
    expect(two.map((m) => m.fee)).toEqual([0n, 0n]);
    const known = { ...credit(amount), feeKnown: true };
    expect(inferTransferFees([known], () => delta)).toBe(0);
    expect(known.fee).toBe(0n);
    const noDelta = credit(amount);
    expect(inferTransferFees([noDelta], () => undefined)).toBe(0);
    expect(noDelta.fee).toBe(0n);
  });

  test("what else moved the account counts: a debit from it and a known-fee credit to it are in its net", () => {
    const { amount, fee } = inferred();
    const m = credit(amount);
    const out: TokenMove = { ...credit(3n), source: 2, destination: 3, feeKnown: true };
    const other: TokenMove = { ...credit(7n), fee: 2n, feeKnown: true };
    // net into 2: amount + (7 - 2) - 3; the chain's delta withholds `fee` of the unknown credit
    expect(inferTransferFees([m, out, other], (i) => (i === 2 ? amount - fee + 2n : undefined))).toBe(1);
    expect(m.fee).toBe(fee);
  });
});
