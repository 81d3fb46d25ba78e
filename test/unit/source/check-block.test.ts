/**
 * The source's shape and range checks (checkBlock, checkTransaction): every recorded mainnet transaction passes, and
 * each field out of range is a malformed answer (retried, then dead-lettered by the worker), never read as a number.
 */
import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { MalformedResponseError } from "../../../core/errors.js";
import type { RawBlock } from "../../../core/solana-types.js";
import { defaultFixturePaths } from "../../../devchain/index.js";
import { loadFixtures } from "../../../devchain/fixtures.js";
import { checkBlock, checkTransaction } from "../../../indexer/source/index.js";
import { fixturePath } from "../../setup/fixtures.js";

const dir = fixturePath("blocks/getBlock-json-mainnet-converted");
const file = readdirSync(dir).find((f) => f.endsWith(".json"))!;
const SLOT = Number(/(\d{6,})/.exec(file)![1]);
/** A fresh copy of a recorded mainnet block (each test mutates its own). */
const block = (): RawBlock => {
  const raw = JSON.parse(readFileSync(`${dir}/${file}`, "utf8"));
  return (raw.result ?? raw) as RawBlock;
};
/** Index of the first transaction with token balances and inner instructions (the fields under test). */
const rich = (b: RawBlock): number =>
  b.transactions.findIndex(
    (t) => (t.meta?.postTokenBalances?.length ?? 0) > 0 && (t.meta?.innerInstructions?.length ?? 0) > 0,
  );

const rejects = (b: unknown, message: RegExp): void => {
  let err: unknown;
  try {
    checkBlock(SLOT, b);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(MalformedResponseError);
  expect((err as Error).message).toMatch(message);
};

describe("checkBlock and checkTransaction", () => {
  test("every recorded transaction of every fixture folder passes, and both whole blocks", () => {
    const { blocks } = loadFixtures(defaultFixturePaths());
    let n = 0;
    for (const b of blocks) b.txs.forEach((t, i) => (checkTransaction(b.slot, i, t.raw), n++));
    expect(n).toBeGreaterThan(3_000);
    expect(checkBlock(SLOT, block()).transactions.length).toBeGreaterThan(1_000);
  });

  test("block fields: parentSlot past 2^53 or not below the slot, blockHeight past 2^53, hashes not base58 or missing", () => {
    rejects({ ...block(), parentSlot: 2 ** 53 + 2 }, /parentSlot out of range/);
    rejects({ ...block(), parentSlot: SLOT }, /parentSlot out of range/);
    rejects({ ...block(), parentSlot: -1 }, /parentSlot out of range/);
    rejects({ ...block(), blockHeight: 2 ** 60 }, /blockHeight out of range/);
    rejects({ ...block(), blockTime: 1e300 }, /blockTime out of range/);
    rejects({ ...block(), blockhash: "0OIl" }, /blockhash is not a base58 hash/);
    rejects({ ...block(), previousBlockhash: "x".repeat(60) }, /previousBlockhash is not a base58 hash/);
    rejects({ ...block(), previousBlockhash: undefined }, /previousBlockhash missing/);
  });

  test.each<[string, (b: RawBlock, i: number) => void, RegExp]>([
    [
      "decimals 256",
      (b, i) => (b.transactions[i]!.meta!.postTokenBalances![0]!.uiTokenAmount.decimals = 256),
      /decimals out of range \(256\)/,
    ],
    [
      "decimals -1",
      (b, i) => (b.transactions[i]!.meta!.preTokenBalances![0]!.uiTokenAmount.decimals = -1),
      /decimals out of range/,
    ],
    [
      "amount 2^64",
      (b, i) => (b.transactions[i]!.meta!.postTokenBalances![0]!.uiTokenAmount.amount = "18446744073709551616"),
      /amount is not a u64/,
    ],
    [
      "amount negative",
      (b, i) => (b.transactions[i]!.meta!.postTokenBalances![0]!.uiTokenAmount.amount = "-5"),
      /amount is not a u64/,
    ],
    [
      "amount as a number",
      (b, i) => ((b.transactions[i]!.meta!.postTokenBalances![0]!.uiTokenAmount as { amount: unknown }).amount = 5),
      /amount is not a u64/,
    ],
    [
      "token account index past the keys",
      (b, i) => (b.transactions[i]!.meta!.postTokenBalances![0]!.accountIndex = 400),
      /token balance account index out of range/,
    ],
    [
      "mint not a key",
      (b, i) => (b.transactions[i]!.meta!.postTokenBalances![0]!.mint = "short"),
      /mint is not base58/,
    ],
    [
      "program index past the keys",
      (b, i) => (b.transactions[i]!.transaction.message.instructions[0]!.programIdIndex = 999),
      /instruction 0 program index out of range/,
    ],
    [
      "account index 1.5",
      (b, i) => (b.transactions[i]!.transaction.message.instructions[0]!.accounts[0] = 1.5),
      /account index out of range \(1.5\)/,
    ],
    [
      "inner index past the instructions",
      (b, i) => (b.transactions[i]!.meta!.innerInstructions![0]!.index = 77),
      /inner instructions index out of range/,
    ],
    [
      "inner program index negative",
      (b, i) => (b.transactions[i]!.meta!.innerInstructions![0]!.instructions[0]!.programIdIndex = -1),
      /inner instruction .* program index out of range/,
    ],
    ["fee past 2^53", (b, i) => (b.transactions[i]!.meta!.fee = 2 ** 53 + 2), /fee out of range/],
    [
      "computeUnitsConsumed past 2^53 (as exact decimal text)",
      (b, i) =>
        ((b.transactions[i]!.meta as { computeUnitsConsumed?: unknown }).computeUnitsConsumed = "9007199254740993"),
      /computeUnitsConsumed out of range/,
    ],
    ["a negative balance", (b, i) => (b.transactions[i]!.meta!.postBalances[0] = -1), /balance that is not a number/],
    ["a balance missing", (b, i) => b.transactions[i]!.meta!.preBalances.pop(), /balances for \d+ accounts/],
    [
      "a balance past u64 (as exact decimal text)",
      (b, i) => (b.transactions[i]!.meta!.postBalances[0] = "18446744073709551616"),
      /balance that is not a number/,
    ],
    [
      "a small balance as text",
      (b, i) => (b.transactions[i]!.meta!.preBalances[0] = "5000"),
      /balance that is not a number/,
    ],
    [
      "an account key too short",
      (b, i) => (b.transactions[i]!.transaction.message.accountKeys[1] = "abc"),
      /account key that is not base58/,
    ],
    [
      "a signature too long",
      (b, i) => (b.transactions[i]!.transaction.signatures[0] += "x".repeat(30)),
      /signature that is not base58/,
    ],
    ["no signatures", (b, i) => (b.transactions[i]!.transaction.signatures = []), /has no signatures/],
  ])("a transaction with %s is malformed", (_, mutate, message) => {
    const b = block();
    const i = rich(b);
    expect(i).toBeGreaterThanOrEqual(0);
    mutate(b, i);
    rejects(b, message);
  });
});
