import { describe, expect, test } from "vitest";
import { createDecoder } from "../../../indexer/decode/index.js";
import { accountKeys } from "../../../indexer/decode/tx-view.js";
import { PRESET_NAMES, TOKEN_2022_PROGRAM_ID } from "../../../core/presets.js";
import type { DecodedTransaction } from "../../../core/decoded.js";
import { tokenDeltas } from "./chain-accounting.js";
import { allFixtureTxs, type FixtureTx } from "./fixture-txs.js";
import { shared } from "./shared.js";

const decoder = shared(() => createDecoder({ programs: [...PRESET_NAMES] }));
const decoded = shared((): { f: FixtureTx; d: DecodedTransaction }[] =>
  allFixtureTxs().flatMap((f) => {
    const d = decoder().decodeTransaction(f.tx, { slot: f.slot, blockTime: f.blockTime, txIndex: f.txIndex });
    return d ? [{ f, d }] : [];
  }),
);

/** The token balances' pre amount of each account, by address. */
function preAmounts(f: FixtureTx): Map<string, bigint> {
  const keys = accountKeys(f.tx);
  return new Map(
    (f.tx.meta?.preTokenBalances ?? []).map((b) => [keys[b.accountIndex]!, BigInt(b.uiTokenAmount.amount)]),
  );
}

describe("balances: token accounts and signers as each transaction left them", () => {
  test("every postTokenBalances entry is one token account state: address by index over the full key list", () => {
    let checked = 0;
    for (const { f, d } of decoded()) {
      const keys = accountKeys(f.tx);
      const post = f.tx.meta?.postTokenBalances ?? [];
      const open = d.tokenAccounts.filter((a) => !a.closed);
      expect(open.length, f.file).toBe(post.length);
      for (const b of post) {
        const a = open.find((x) => x.address === keys[b.accountIndex]);
        expect(a, f.file).toBeDefined();
        expect(a).toMatchObject({
          mint: b.mint,
          owner: b.owner ?? null,
          program: b.programId === TOKEN_2022_PROGRAM_ID ? "token-2022" : "spl-token",
          amount: BigInt(b.uiTokenAmount.amount),
          slot: f.slot,
          txIndex: f.txIndex,
        });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(4000);
  });

  test("an account in preTokenBalances and absent from postTokenBalances is closed, with amount 0", () => {
    let closed = 0;
    for (const { f, d } of decoded()) {
      const keys = accountKeys(f.tx);
      const postKeys = new Set((f.tx.meta?.postTokenBalances ?? []).map((b) => keys[b.accountIndex]));
      const gone = (f.tx.meta?.preTokenBalances ?? []).filter((b) => !postKeys.has(keys[b.accountIndex]));
      for (const b of gone) {
        expect(d.tokenAccounts.find((a) => a.address === keys[b.accountIndex])).toMatchObject({
          mint: b.mint,
          amount: 0n,
          closed: true,
        });
        closed++;
      }
      expect(d.tokenAccounts.filter((a) => a.closed).length, f.file).toBe(gone.length);
    }
    expect(closed).toBeGreaterThan(10);
  });

  test("a transfer's amount is the chain's delta of its destination account (less its fee)", () => {
    let checked = 0;
    for (const { f, d } of decoded()) {
      const deltas = tokenDeltas(f.tx);
      const pre = preAmounts(f);
      for (const t of d.transfers) {
        if (t.kind !== "transfer" || !t.destination || t.source === t.destination) continue;
        // an account moved once in the transaction: its delta is this transfer alone
        const touching = d.transfers.filter((x) => x.source === t.destination || x.destination === t.destination);
        if (touching.length !== 1) continue;
        const state = d.tokenAccounts.find((a) => a.address === t.destination);
        if (!state) continue;
        const delta = state.amount - (pre.get(t.destination) ?? 0n);
        expect(delta, `${f.file} ${t.instructionPath}`).toBe(t.amount - (t.fee ?? 0n));
        expect(delta).toBe(deltas.get(t.destination)!.delta);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(500);
  });

  test("every signer's lamports are its postBalances entry, as bigint; non-signers are not wallets", () => {
    let checked = 0;
    for (const { f, d } of decoded()) {
      const n = f.tx.transaction.message.header.numRequiredSignatures;
      const keys = accountKeys(f.tx);
      const signers = [...new Set(keys.slice(0, n))];
      expect(d.wallets.map((w) => w.address)).toEqual(signers);
      for (const w of d.wallets) {
        expect(typeof w.lamports).toBe("bigint");
        expect(w.lamports).toBe(BigInt(f.tx.meta!.postBalances[keys.indexOf(w.address)]!));
        expect(w).toMatchObject({ slot: f.slot, txIndex: f.txIndex });
      }
      expect(d.wallets[0]!.address).toBe(d.transaction.feePayer);
      checked += d.wallets.length;
    }
    expect(checked).toBeGreaterThan(600);
  });

  test("a failed transaction still reports balances: its token accounts unchanged, its fee payer charged", () => {
    const failed = decoded().filter(({ d }) => !d.transaction.success);
    expect(failed.length).toBeGreaterThan(0);
    for (const { f, d } of failed) {
      const pre = preAmounts(f);
      for (const a of d.tokenAccounts) expect(a.amount, f.file).toBe(pre.get(a.address) ?? 0n);
      const meta = f.tx.meta!;
      expect(d.wallets[0]!.lamports).toBe(BigInt(meta.preBalances[0]!) - BigInt(meta.fee));
    }
  });

  test("a mint initialised in the transaction is marked initialized; a mint only moved is not", () => {
    const inits = decoded().filter(({ d }) => d.tokens.some((t) => t.initialized));
    expect(inits.length).toBeGreaterThan(0);
    for (const { f, d } of inits)
      for (const t of d.tokens.filter((x) => x.initialized)) {
        // the chain agrees: no account of a new mint held anything before the transaction
        const keys = accountKeys(f.tx);
        const held = (f.tx.meta?.preTokenBalances ?? []).filter(
          (b) => b.mint === t.mint && BigInt(b.uiTokenAmount.amount) > 0n,
        );
        expect(
          held.map((b) => keys[b.accountIndex]),
          f.file,
        ).toEqual([]);
      }
    const moved = decoded().filter(({ d }) => d.transfers.length > 0 && !d.tokens.some((t) => t.initialized));
    expect(moved.length).toBeGreaterThan(100);
  });
});
