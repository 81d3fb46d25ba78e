/**
 * Balances in the store over the two whole mainnet blocks: token_accounts and wallets equal the last transaction
 * touching each account in chain order, whatever order and batching the transactions arrive in; token_holders and
 * holder_count equal what SQL counts from token_accounts; a rollback restores them from the change logs; supply is
 * the read at its slot plus the mints and burns stored after it.
 */
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { createDb, type Db } from "../../../core/db.js";
import { type DecodedBlock, createDecoder } from "../../../indexer/decode/index.js";
import { PRESET_NAMES } from "../../../core/presets.js";
import { createStore } from "../../../indexer/store/index.js";
import { expectedBalances, holderMismatches, storedBalances } from "../../setup/balances-oracle.js";
import { digestTables } from "../../setup/digest.js";
import { decodedFixtureBlocks } from "../../setup/fixtures.js";
import { createTestDatabase } from "../../setup/services.js";

const BALANCE_TABLES = ["token_accounts", "token_holders", "wallets", "tokens"];

describe("store: balances and holders", () => {
  let blocks: DecodedBlock[];
  const opened: { db: Db; drop(): Promise<void> }[] = [];

  beforeAll(() => {
    blocks = decodedFixtureBlocks(createDecoder({ programs: PRESET_NAMES }));
  });
  afterAll(async () => {
    for (const o of opened) {
      await o.db.$client.end();
      await o.drop();
    }
  });

  async function fresh() {
    const d = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    const db = createDb(d.url, { max: 2 });
    opened.push({ db, drop: d.drop });
    return { url: d.url, db, store: createStore({ db }) };
  }

  const pick = async (url: string) => {
    const d = await digestTables(url);
    return Object.fromEntries(BALANCE_TABLES.map((t) => [t, d[t]]));
  };

  test("every token account and wallet equals the last transaction touching it; holders equal SQL's count", async () => {
    const { url, store } = await fresh();
    await store.writeBlocks(blocks, { commitment: "confirmed" });
    const want = expectedBalances(blocks);
    expect(want.accounts.length).toBeGreaterThan(500);
    // the load is what makes the test able to fail: accounts touched by several transactions, some closed
    const touches = blocks.flatMap((b) => b.transactions.flatMap((t) => t.tokenAccounts));
    expect(touches.length - want.accounts.length).toBeGreaterThan(200);
    expect(touches.some((a) => a.closed)).toBe(true);
    expect(await storedBalances(url)).toEqual(want);
    expect(await holderMismatches(url)).toEqual({ holders: [], counts: [] });
    const [counted] = (
      await opened
        .at(-1)!
        .db.$client.query<{ n: number }>("select count(*)::int as n from tokens where holder_count > 0")
    ).rows;
    expect(counted!.n).toBeGreaterThan(10);
  });

  test("any order, any batching, delivered twice: the same rows as in chain order", async () => {
    const ordered = await fresh();
    await ordered.store.writeBlocks(blocks, { commitment: "confirmed" });
    const shuffled = await fresh();
    const txs = blocks.flatMap((b) => b.transactions);
    // newest first, eight transactions per batch as logs mode stores them (a slot split across batches), then every
    // other eight again
    const reversed = [...txs].reverse();
    for (let i = 0; i < reversed.length; i += 8) await shuffled.store.writeTransactions(reversed.slice(i, i + 8));
    for (let i = 0; i < txs.length; i += 16) await shuffled.store.writeTransactions(txs.slice(i, i + 8));
    expect(await storedBalances(shuffled.url)).toEqual(expectedBalances(blocks));
    expect(await holderMismatches(shuffled.url)).toEqual({ holders: [], counts: [] });
    expect(await pick(shuffled.url)).toEqual(await pick(ordered.url));
  }, 120_000);

  test("rolling back a slot restores every balance, holder and holder count; finality prunes the logs first", async () => {
    const [first, second] = blocks;
    const only = await fresh();
    await only.store.writeBlocks([first!], { commitment: "confirmed" });
    const both = await fresh();
    await both.store.writeBlocks([first!, second!], { commitment: "confirmed" });
    await both.store.markFinalized(first!.slot);
    const pruned = await both.db.$client.query<{ n: number }>(
      "select count(*)::int as n from token_account_changes where slot <= $1",
      [first!.slot],
    );
    expect(pruned.rows[0]!.n).toBeGreaterThan(0);
    await both.store.rollbackSlots([second!.slot]);
    expect(await pick(both.url)).toEqual(await pick(only.url));
    expect(await holderMismatches(both.url)).toEqual({ holders: [], counts: [] });
    // and the slot stored again (the fork switched back) is as if never rolled back
    await both.store.writeBlocks([second!], { commitment: "confirmed" });
    const again = await fresh();
    await again.store.writeBlocks([first!, second!], { commitment: "confirmed" });
    expect(await pick(both.url)).toEqual(await pick(again.url));
  });

  test("supply: the read at its slot plus the mints and burns stored after it, once each, through a rollback", async () => {
    const { db, store } = await fresh();
    const base = blocks[0]!.transactions.find((t) => t.tokens.length > 0)!;
    const mint = base.tokens[0]!.mint;
    const at = (slot: number, kind: "mint" | "burn", amount: bigint, init = false): DecodedBlock => ({
      slot,
      parentSlot: slot - 1,
      blockhash: `h${slot}`,
      blockTime: null,
      txCount: 1,
      transactions: [
        {
          ...base,
          transaction: { ...base.transaction, signature: `${kind}${slot}${amount}`, slot, txIndex: 0 },
          transfers: [
            {
              signature: `${kind}${slot}${amount}`,
              instructionPath: "0",
              kind,
              mint,
              amount,
              slot,
              txIndex: 0,
              blockTime: null,
            },
          ],
          swaps: [],
          pools: [],
          liquidityEvents: [],
          programEvents: [],
          tokenAccounts: [],
          wallets: [],
          tokens: [{ mint, program: "spl-token", decimals: 6, slot, ...(init ? { initialized: true } : {}) }],
        },
      ],
    });
    const supply = async () =>
      (
        await db.$client.query<{ s: string | null; at: string | null }>(
          "select supply::text as s, supply_slot::text as at from tokens where mint = $1",
          [mint],
        )
      ).rows[0];
    const lookup = (s: bigint, slot: number) => ({
      supply: s,
      slot,
      decimals: 6,
      mintAuthority: null,
      freezeAuthority: null,
      name: null,
      symbol: null,
      uri: null,
    });
    // initialised at 100 with 7 minted in the same slot: 0 before it
    await store.writeBlocks([at(100, "mint", 7n, true)], { commitment: "confirmed" });
    expect(await supply()).toEqual({ s: "7", at: "99" });
    // a read at 110 (holding 1,000) replaces it; a mint at 105 stored late is in the read, one at 112 is not
    await store.fillTokens([{ mint, lookup: lookup(1000n, 110) }]);
    await store.writeBlocks([at(105, "mint", 50n)], { commitment: "confirmed" });
    await store.writeBlocks([at(112, "mint", 5n), at(113, "burn", 2n)], { commitment: "confirmed" });
    expect(await supply()).toEqual({ s: "1003", at: "110" });
    // delivered again: nothing counts twice; an older read changes nothing
    await store.writeBlocks([at(112, "mint", 5n), at(113, "burn", 2n)], { commitment: "confirmed" });
    await store.fillTokens([{ mint, lookup: lookup(1n, 108) }]);
    expect(await supply()).toEqual({ s: "1003", at: "110" });
    // rolled back: the dropped mint leaves the supply
    await store.rollbackSlots([112]);
    expect(await supply()).toEqual({ s: "998", at: "110" });
    // a fork below the read: the read may hold the dropped fork, so it is forgotten and read again
    await store.rollbackSlots([105]);
    expect(await supply()).toEqual({ s: null, at: null });
    await store.fillTokens([{ mint, lookup: lookup(999n, 114) }]);
    expect(await supply()).toEqual({ s: "999", at: "114" });
  });
});
