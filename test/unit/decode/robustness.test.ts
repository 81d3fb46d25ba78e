import bs58 from "bs58";
import { describe, expect, test } from "vitest";
import { createDecoder } from "../../../indexer/decode/index.js";
import { PRESET_NAMES } from "../../../core/presets.js";
import type { RawBlockTransaction } from "../../../core/solana-types.js";
import { allFixtureTxs, jsonParsedFixtureTxs } from "./fixture-txs.js";
import { shared } from "./shared.js";

const decoder = shared(() => createDecoder({ programs: [...PRESET_NAMES] }));
const txs = allFixtureTxs().filter(
  (f) => !f.tx.transaction.message.accountKeys.includes("Vote111111111111111111111111111111111111111"),
);

/** A small seeded PRNG (mulberry32), so a failure names a reproducible seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Mutation = (tx: RawBlockTransaction, r: () => number) => void;
const pick = <T>(xs: T[], r: () => number): T | undefined => xs[Math.floor(r() * xs.length)];
const allIxs = (tx: RawBlockTransaction) => [
  ...tx.transaction.message.instructions,
  ...(tx.meta?.innerInstructions ?? []).flatMap((g) => g.instructions),
];

const MUTATIONS: Record<string, Mutation> = {
  flipDataBytes(tx, r) {
    const ix = pick(allIxs(tx), r);
    if (!ix) return;
    const b = bs58.decode(ix.data);
    for (let i = 0; i < 3 && b.length > 0; i++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
    ix.data = bs58.encode(b);
  },
  truncateData(tx, r) {
    const ix = pick(allIxs(tx), r);
    if (ix) ix.data = bs58.encode(bs58.decode(ix.data).subarray(0, Math.floor(r() * 9)));
  },
  badAccountIndex(tx, r) {
    const ix = pick(allIxs(tx), r);
    if (ix && ix.accounts.length > 0) ix.accounts[Math.floor(r() * ix.accounts.length)] = 200 + Math.floor(r() * 50);
  },
  dropAccounts(tx, r) {
    const ix = pick(allIxs(tx), r);
    if (ix) ix.accounts = ix.accounts.slice(0, Math.floor(r() * ix.accounts.length));
  },
  badProgramIndex(tx, r) {
    const ix = pick(allIxs(tx), r);
    if (ix) ix.programIdIndex = 255;
  },
  scrambleStackHeights(tx, r) {
    for (const g of tx.meta?.innerInstructions ?? [])
      for (const ix of g.instructions) ix.stackHeight = Math.floor(r() * 7) - 1;
  },
  dropMetaParts(tx, r) {
    const m = tx.meta as Record<string, unknown> | null;
    if (!m) return;
    for (const k of ["innerInstructions", "logMessages", "preTokenBalances", "postTokenBalances", "loadedAddresses"])
      if (r() < 0.4) m[k] = r() < 0.5 ? null : undefined;
  },
  garbageTokenAmounts(tx, r) {
    for (const b of tx.meta?.postTokenBalances ?? [])
      if (r() < 0.5) b.uiTokenAmount.amount = r() < 0.5 ? "not a number" : "340282366920938463463374607431768211455";
  },
  truncateLogs(tx, r) {
    const logs = tx.meta?.logMessages;
    if (logs)
      tx.meta!.logMessages = [...logs.slice(0, Math.floor(r() * logs.length)), "Log truncated", ...logs.slice(-2)];
  },
  shortenBalances(tx, r) {
    if (tx.meta) tx.meta.postBalances = tx.meta.postBalances.slice(0, Math.floor(r() * tx.meta.postBalances.length));
  },
};

describe("robustness", () => {
  test.each(Object.keys(MUTATIONS))("random %s mutations of real transactions never throw", (name) => {
    const mutate = MUTATIONS[name]!;
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      const f = txs[Math.floor(r() * txs.length)]!;
      const tx = structuredClone(f.tx);
      mutate(tx, r);
      let d;
      try {
        d = decoder().decodeTransaction(tx, f);
      } catch (err) {
        throw new Error(`${name} seed ${seed} on ${f.file}: ${(err as Error).stack}`);
      }
      if (d) expect(d.transaction.signature).toBe(tx.transaction.signatures[0]);
    }
  });

  test("transactions in jsonParsed encoding are passed over without throwing", () => {
    const parsed = jsonParsedFixtureTxs();
    expect(parsed.length).toBeGreaterThan(0);
    for (const f of parsed) expect(() => decoder().decodeTransaction(f.tx, f)).not.toThrow();
  });

  test("a transaction without meta is not decoded", () => {
    const tx = structuredClone(txs[0]!.tx);
    tx.meta = null;
    expect(decoder().decodeTransaction(tx, { slot: 1, blockTime: null, txIndex: 0 })).toBeUndefined();
  });
});
