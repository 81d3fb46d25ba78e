/**
 * Seeding token accounts from a snapshot, over the two whole mainnet blocks: the state the first block leaves, seeded
 * at its slot, followed by the second block, ends as storing both blocks does (open accounts, holders, holder counts),
 * whatever the order of the seed and the later block; a seed is idempotent and never overwrites a later transaction.
 */
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { createDb, type Db } from "../../../core/db.js";
import { PRESET_NAMES } from "../../../core/presets.js";
import { type DecodedBlock, createDecoder } from "../../../indexer/decode/index.js";
import { createStore, type TokenSnapshot } from "../../../indexer/store/index.js";
import { SNAPSHOT_TX_INDEX } from "../../../schema/index.js";
import { holderMismatches } from "../../setup/balances-oracle.js";
import { digestTables } from "../../setup/digest.js";
import { decodedFixtureBlocks } from "../../setup/fixtures.js";
import { createTestDatabase } from "../../setup/services.js";

describe("store: a snapshot's seed", () => {
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

  /** Per mint, the open accounts a database holds (what getProgramAccounts would return at its last slot). */
  async function snapshotsOf(db: Db, slot: number): Promise<TokenSnapshot[]> {
    const r = await db.$client.query<{ address: string; mint: string; owner: string; program: string; amount: string }>(
      `select address, mint, owner, program, amount::text from token_accounts where not closed and owner is not null
       order by mint, address`,
    );
    const by = new Map<string, TokenSnapshot>();
    for (const a of r.rows) {
      let s = by.get(a.mint);
      if (!s) by.set(a.mint, (s = { mint: a.mint, program: a.program as never, decimals: null, slot, accounts: [] }));
      s.accounts.push({ address: a.address, owner: a.owner, amount: BigInt(a.amount) });
    }
    return [...by.values()];
  }

  /**
   * What must match a full run: open accounts with an owner, holders, and the holder counts of `mints` (a seed creates
   * the tokens row of a mint the decoder never named).
   */
  async function state(db: Db, mints?: string[]) {
    const q = async (sql: string) => (await db.$client.query(sql)).rows;
    return {
      accounts: await q(
        `select address, mint, owner, program, amount::text from token_accounts
         where not closed and owner is not null order by address`,
      ),
      holders: await q(`select mint, owner, amount::text, accounts from token_holders order by mint, owner`),
      counts: (
        await db.$client.query(
          `select mint, holder_count from tokens where holder_count > 0 and ($1::text[] is null or mint = any($1))
         order by mint`,
          [mints ?? null],
        )
      ).rows,
    };
  }

  test("seeded at the first block's slot, then the second block: the state of storing both", async () => {
    const [first, second] = blocks as [DecodedBlock, DecodedBlock];
    const full = await fresh();
    await full.store.writeBlocks([first, second], { commitment: "confirmed" });
    const before = await fresh();
    await before.store.writeBlocks([first], { commitment: "confirmed" });
    const snaps = await snapshotsOf(before.db, first.slot);
    expect(snaps.length).toBeGreaterThan(20);

    // the seed first, then the later block (a snapshot followed by ingest)
    const seeded = await fresh();
    for (const s of snaps) await seeded.store.seedTokenAccounts(s);
    await seeded.store.writeBlocks([second], { commitment: "confirmed" });
    const mints = (await full.db.$client.query<{ mint: string }>("select mint from tokens")).rows.map((r) => r.mint);
    const want = await state(full.db, mints);
    expect(want.accounts.length).toBeGreaterThan(500);
    expect(want.counts.length).toBeGreaterThan(20);
    expect(await state(seeded.db, mints)).toEqual(want);
    expect(await holderMismatches(seeded.url)).toEqual({ holders: [], counts: [] });

    // the later block first (ingest ran ahead of the snapshot): the seed keeps what the block set
    const late = await fresh();
    await late.store.writeBlocks([second], { commitment: "confirmed" });
    for (const s of snaps) await late.store.seedTokenAccounts(s);
    expect(await state(late.db, mints)).toEqual(want);
    expect(await holderMismatches(late.url)).toEqual({ holders: [], counts: [] });
    const kept = await late.db.$client.query<{ n: number }>(
      "select count(*)::int as n from token_accounts where slot = $1",
      [second.slot],
    );
    expect(kept.rows[0]!.n).toBeGreaterThan(20);

    // a re-run changes nothing
    const d1 = await digestTables(late.url);
    for (const s of snaps) await late.store.seedTokenAccounts(s);
    expect(await digestTables(late.url)).toEqual(d1);
  }, 120_000);

  test("a stored open account the snapshot does not hold closes; rolling back a later slot restores the seed", async () => {
    const [first, second] = blocks as [DecodedBlock, DecodedBlock];
    const db = await fresh();
    await db.store.writeBlocks([first], { commitment: "confirmed" });
    const [snap] = (await snapshotsOf(db.db, first.slot)).sort((a, b) => b.accounts.length - a.accounts.length);
    const dropped = snap!.accounts[0]!;
    const r = await db.store.seedTokenAccounts({ ...snap!, slot: first.slot + 1, accounts: snap!.accounts.slice(1) });
    expect(r).toEqual({ seeded: snap!.accounts.length - 1, closed: 1 });
    const row = await db.db.$client.query(
      "select amount::text, closed, slot::int8::text as slot, tx_index from token_accounts where address = $1",
      [dropped.address],
    );
    expect(row.rows[0]).toEqual({
      amount: "0",
      closed: true,
      slot: String(first.slot + 1),
      tx_index: SNAPSHOT_TX_INDEX,
    });
    expect(await holderMismatches(db.url)).toEqual({ holders: [], counts: [] });

    const seededState = await state(db.db);
    await db.store.writeBlocks([second], { commitment: "confirmed" });
    await db.store.rollbackSlots([second.slot]);
    expect(await state(db.db)).toEqual(seededState);
    expect(await holderMismatches(db.url)).toEqual({ holders: [], counts: [] });
  }, 120_000);
});
