import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { createDb, type Db } from "../../../core/db.js";
import { type DecodedBlock, createDecoder } from "../../../indexer/decode/index.js";
import { PRESET_NAMES } from "../../../core/presets.js";
import { createStore } from "../../../indexer/store/index.js";
import { digestTables } from "../../setup/digest.js";
import { decodedFixtureBlocks } from "../../setup/fixtures.js";
import { createTestDatabase } from "../../setup/services.js";

const SLOT_KEYS = new Set(["slot", "firstSeenSlot", "lastSwapSlot", "reservesSlot", "createdSlot"]);

/** A copy of `b` at slot `to`: every slot field moved, every signature suffixed, so copies are distinct rows. */
function moveBlock(b: DecodedBlock, to: number): DecodedBlock {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object" && !(v instanceof Date)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (SLOT_KEYS.has(k) && x === b.slot) out[k] = to;
        else if ((k === "signature" || k === "createdSignature") && typeof x === "string") out[k] = `${x}-${to}`;
        else out[k] = walk(x);
      }
      return out;
    }
    return v;
  };
  return walk(b) as DecodedBlock;
}

// The change log below finality is pruned (C2); a rollback of the slots above it must stay exact.
describe("store: change log pruning at finality", () => {
  let blocks: DecodedBlock[];
  let base: number;
  let chain: DecodedBlock[];
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Db;
  beforeAll(async () => {
    const decoder = createDecoder({ programs: PRESET_NAMES });
    blocks = decodedFixtureBlocks(decoder);
    base = Math.max(...blocks.map((b) => b.slot)) + 1_000;
    // Twelve slots alternating the two mainnet blocks: the same mints and pools, reserves changing slot to slot.
    chain = Array.from({ length: 12 }, (_, i) => moveBlock(blocks[i % 2]!, base + i));
    database = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    db = createDb(database.url, { max: 2 });
  });
  afterAll(async () => {
    await db.$client.end();
    await database.drop();
  });

  test("finalizing prunes the log to at most four rows per key below finality (a pool's reserve changes aside); rolling back slots above it still equals a database that never saw them", async () => {
    const store = createStore({ db });
    for (const b of chain) await store.writeBlocks([b], { commitment: "confirmed" });
    const count = async () =>
      (await db.$client.query<{ n: number }>("select count(*)::int as n from slot_changes")).rows[0]!.n;
    const before = await count();
    const pruned = await store.markFinalized(base + 8);
    expect(pruned).toBeGreaterThan(0);
    expect(await count()).toBe(before - pruned);
    const most = await db.$client.query<{ n: number }>(
      // a pool's reserve changes stay: the pricing stage reads them again after a backfill below its cursor
      `select max(n)::int as n from (select count(*) as n from slot_changes
         where slot <= $1 and not (kind = 'pool' and reserve_a is not null) group by kind, key) x`,
      [base + 8],
    );
    expect(most.rows[0]!.n).toBeLessThanOrEqual(4);
    // Finalizing again prunes nothing more.
    expect(await store.markFinalized(base + 8)).toBe(0);

    // The three slots above finality are dropped by a fork: tokens and pools must be those of slots base..base+8.
    await store.rollbackSlots([base + 9, base + 10, base + 11]);
    const other = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    const otherDb = createDb(other.url, { max: 1 });
    try {
      const otherStore = createStore({ db: otherDb });
      for (const b of chain.slice(0, 9)) await otherStore.writeBlocks([b], { commitment: "confirmed" });
      const [a, b] = await Promise.all([digestTables(database.url), digestTables(other.url)]);
      for (const t of ["tokens", "pools", "transactions", "token_transfers", "swaps"]) expect(a[t], t).toEqual(b[t]);
      expect(a.pools!.rows).toBeGreaterThan(0);
    } finally {
      await otherDb.$client.end();
      await other.drop();
    }
  });
});
