/**
 * Property: whatever token account states and signer lamports the decoder can produce, in whatever order and
 * batching they arrive (duplicates included), token_accounts and wallets hold the state latest in chain order, and
 * token_holders and tokens.holder_count equal what SQL counts from token_accounts. A small pool of accounts, owners
 * and mints makes transactions collide on them: owners change, accounts close and reopen under another mint.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { createDb, type Db } from "../../../core/db.js";
import type { DecodedBlock, DecodedTransaction } from "../../../indexer/decode/index.js";
import { createStore } from "../../../indexer/store/index.js";
import { expectedBalances, holderMismatches, storedBalances } from "../../setup/balances-oracle.js";
import { createTestDatabase } from "../../setup/services.js";

const U64_MAX = 2n ** 64n - 1n;
const key = (kind: string, i: number) => `${kind}${String(i).padStart(40, "1")}`;
const MINTS = [0, 1, 2].map((i) => key("M", i));

/** One account touched by a transaction: which account, its mint, its owner, its amount, whether it closed. */
const touch = fc.record({
  account: fc.nat(5),
  mint: fc.nat(2),
  owner: fc.option(fc.nat(3), { nil: null, freq: 8 }),
  amount: fc.oneof(fc.constant(0n), fc.bigInt(1n, U64_MAX)),
  closed: fc.boolean(),
  token2022: fc.boolean(),
});
const txShape = fc.record({
  slotOffset: fc.nat(3),
  touches: fc.uniqueArray(touch, { selector: (t) => t.account, maxLength: 4 }),
  signers: fc.uniqueArray(fc.record({ owner: fc.nat(3), lamports: fc.bigInt(0n, U64_MAX) }), {
    selector: (s) => s.owner,
    maxLength: 2,
  }),
});
const scenario = fc.array(txShape, { minLength: 1, maxLength: 10 }).chain((txs) =>
  fc.record({
    txs: fc.constant(txs),
    order: fc.shuffledSubarray([0, 1, 2, 3], { minLength: 4, maxLength: 4 }),
    again: fc.subarray([0, 1, 2, 3]),
    batch: fc.integer({ min: 1, max: 3 }),
    rollback: fc.option(fc.nat(3), { nil: undefined }),
  }),
);

type TxShape = typeof txShape extends fc.Arbitrary<infer T> ? T : never;

/** Blocks of a scenario: transaction i in slot base + its offset, at the next index of that slot. */
function blocksOf(txs: TxShape[]): DecodedBlock[] {
  const slot0 = 700_000_000;
  const bySlot = new Map<number, DecodedBlock>();
  txs.forEach((g, i) => {
    const slot = slot0 + g.slotOffset;
    const block = bySlot.get(slot) ?? {
      slot,
      parentSlot: slot - 1,
      blockhash: `h${slot}`,
      blockTime: null,
      txCount: 0,
      transactions: [],
    };
    const txIndex = block.transactions.length;
    const signature = key("S", i);
    const tx: DecodedTransaction = {
      transaction: {
        signature,
        slot,
        txIndex,
        blockTime: null,
        fee: 5000n,
        success: true,
        err: null,
        feePayer: key("O", g.signers[0]?.owner ?? 0),
        computeUnits: null,
        programIds: [],
        logTruncated: false,
      },
      transfers: [],
      swaps: [],
      pools: [],
      liquidityEvents: [],
      programEvents: [],
      trades: [],
      tokens: [...new Set(g.touches.map((t) => t.mint))].map((m) => ({
        mint: MINTS[m]!,
        program: "spl-token" as const,
        decimals: 6,
        slot,
      })),
      tokenAccounts: g.touches.map((t) => ({
        address: key("A", t.account),
        mint: MINTS[t.mint]!,
        owner: t.owner === null ? null : key("O", t.owner),
        program: t.token2022 ? ("token-2022" as const) : ("spl-token" as const),
        amount: t.closed ? 0n : t.amount,
        slot,
        txIndex,
        closed: t.closed,
      })),
      wallets: g.signers.map((s) => ({ address: key("O", s.owner), lamports: s.lamports, slot, txIndex })),
      warnings: [],
    };
    block.transactions.push(tx);
    block.txCount++;
    bySlot.set(slot, block);
  });
  return [...bySlot.values()].sort((a, b) => a.slot - b.slot);
}

describe("store: balances in any order", () => {
  let db: Db;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;

  beforeAll(async () => {
    database = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    db = createDb(database.url, { max: 2 });
  });
  afterAll(async () => {
    await db.$client.end();
    await database.drop();
  });

  test("token_accounts and wallets latest in chain order; holders and holder counts equal SQL's count, through a rollback", {
    timeout: 240_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ txs, order, again, batch, rollback }) => {
        await db.$client.query(
          "truncate transactions, tokens, slots, slot_changes, token_accounts, token_account_changes, token_holders, wallets, wallet_changes",
        );
        const blocks = blocksOf(txs);
        const deliveries = [...order, ...again].map((i) => blocks[i % blocks.length]!);
        const store = createStore({ db });
        for (let i = 0; i < deliveries.length; i += batch)
          await store.writeBlocks(deliveries.slice(i, i + batch), { commitment: "confirmed" });
        expect(await storedBalances(database.url)).toEqual(expectedBalances(blocks));
        expect(await holderMismatches(database.url)).toEqual({ holders: [], counts: [] });
        if (rollback === undefined) return;
        // one slot dropped: the rows equal those of the blocks that remain
        const dropped = blocks[rollback % blocks.length]!.slot;
        await store.rollbackSlots([dropped]);
        expect(await storedBalances(database.url)).toEqual(expectedBalances(blocks.filter((b) => b.slot !== dropped)));
        expect(await holderMismatches(database.url)).toEqual({ holders: [], counts: [] });
      }),
      { numRuns: 60, seed: 20261208 },
    );
  });
});
