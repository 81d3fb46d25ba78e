import { readFileSync, readdirSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { createDb, type Db } from "../../../core/db.js";
import { type DecodedBlock, createDecoder } from "../../../indexer/decode/index.js";
import type { RawBlock } from "../../../core/solana-types.js";
import { createStore, type Store } from "../../../indexer/store/index.js";
import { digestTables } from "../../setup/digest.js";
import { fixturePath } from "../../setup/fixtures.js";
import { createTestDatabase } from "../../setup/services.js";

const BLOCKS_DIR = fixturePath("blocks/getBlock-json-mainnet-converted");

function loadBlocks(): DecodedBlock[] {
  const decoder = createDecoder({
    programs: [
      "spl-token",
      "token-2022",
      "raydium-amm-v4",
      "raydium-cpmm",
      "raydium-clmm",
      "orca-whirlpool",
      "meteora-dlmm",
      "meteora-damm-v2",
      "pumpfun",
      "pump-amm",
    ],
  });
  return readdirSync(BLOCKS_DIR)
    .filter((f) => f.endsWith(".json"))
    .map((f) => {
      const raw = JSON.parse(readFileSync(`${BLOCKS_DIR}/${f}`, "utf8"));
      const block = (raw.result ?? raw) as RawBlock;
      const slot = Number(/(\d{6,})/.exec(f)![1]);
      return decoder.decodeBlock(block, slot);
    });
}

describe("store", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Db;
  let store: Store;
  let blocks: DecodedBlock[];

  beforeAll(async () => {
    database = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    db = createDb(database.url, { max: 2 });
    store = createStore({ db });
    blocks = loadBlocks();
  });
  afterAll(async () => {
    await db.$client.end();
    await database.drop();
  });

  async function count(table: string, where = "true"): Promise<number> {
    const r = await db.$client.query<{ n: number }>(`select count(*)::int as n from ${table} where ${where}`);
    return r.rows[0]!.n;
  }

  test("writes both whole mainnet blocks: every decoded row, with amounts exact to the unit", async () => {
    const counts = await store.writeBlocks(blocks, { commitment: "confirmed" });
    const expected = blocks.flatMap((b) => b.transactions);
    expect(counts.transactions).toBe(expected.length);
    expect(await count("transactions")).toBe(expected.length);
    expect(await count("token_transfers")).toBe(expected.flatMap((t) => t.transfers).length);
    expect(await count("swaps")).toBe(expected.flatMap((t) => t.swaps).length);
    expect(await count("slots", "status = 'indexed'")).toBe(2);
    // Amounts: the sum in Postgres equals the bigint sum of the decoded rows, digit for digit.
    const sum = expected.flatMap((t) => t.transfers).reduce((a, t) => a + t.amount, 0n);
    const r = await db.$client.query<{ s: string }>("select coalesce(sum(amount), 0)::text as s from token_transfers");
    expect(r.rows[0]!.s).toBe(sum.toString());
  });

  test("writing the same blocks again changes nothing (idempotent upserts)", async () => {
    const before = await digestTables(database.url);
    await store.writeBlocks(blocks, { commitment: "confirmed" });
    await store.writeBlocks([...blocks].reverse(), { commitment: "confirmed" });
    expect(await digestTables(database.url)).toEqual(before);
  });

  test("a u64-max amount survives the round trip", async () => {
    const b = structuredClone(blocks[0]!);
    const tx = b.transactions.find((t) => t.transfers.length > 0)!;
    tx.transfers[0]!.amount = 18446744073709551615n;
    await store.writeBlocks([b], { commitment: "confirmed" });
    const r = await db.$client.query<{ a: string }>(
      "select amount::text as a from token_transfers where signature = $1 and instruction_path = $2",
      [tx.transfers[0]!.signature, tx.transfers[0]!.instructionPath],
    );
    expect(r.rows[0]!.a).toBe("18446744073709551615");
    await store.writeBlocks([blocks[0]!], { commitment: "confirmed" });
  });

  test("the live cursor stops below the lowest pending slot and never moves back", async () => {
    const [a, b] = [blocks[0]!.slot, blocks[1]!.slot].sort((x, y) => x - y) as [number, number];
    expect(await store.initLiveCursor(a - 10)).toBe(a - 10);
    // b is produced and queued but not stored yet: the cursor may pass a (stored) but not b.
    await db.$client.query("update slots set status = 'pending' where slot = $1", [b]);
    expect(await store.advanceLiveCursor(b + 5)).toBe(b - 1);
    expect(await store.pendingSlots(a - 10, 10)).toEqual([b]);
    expect(await store.notDone([a, b, b + 1])).toEqual([b, b + 1]);
    await store.writeBlocks([blocks.find((x) => x.slot === b)!], { commitment: "confirmed" });
    expect(await store.advanceLiveCursor(b + 5)).toBe(b + 5);
    // A scan point below the cursor (a restart that rescans) never moves it back.
    expect(await store.advanceLiveCursor(a)).toBe(b + 5);
    // markPending leaves done slots alone.
    await store.markPending([a, b]);
    expect(await store.pendingSlots(a - 10, 10)).toEqual([]);
  });

  test("a skipped mark never overwrites an indexed slot", async () => {
    await store.markSkipped([blocks[0]!.slot], "confirmed");
    expect(await count("slots", `slot = ${blocks[0]!.slot} and status = 'indexed'`)).toBe(1);
  });

  test("rolling back a slot deletes its rows in one transaction and moves the cursor below it", async () => {
    const slot = blocks[1]!.slot;
    const n = await store.rollbackSlots([slot]);
    expect(n).toBe(1);
    for (const t of ["transactions", "token_transfers", "swaps", "liquidity_events", "program_events"])
      expect(await count(t, `slot = ${slot}`), t).toBe(0);
    expect(await count("slots", `slot = ${slot} and status = 'rolled_back'`)).toBe(1);
    expect(await store.liveResumePoint()).toBe(Math.min(slot - 1, blocks[1]!.slot + 5));
    // Re-indexing the slot from the canonical chain restores it.
    await store.writeBlocks([blocks[1]!], { commitment: "confirmed" });
    expect(await count("transactions", `slot = ${slot}`)).toBe(blocks[1]!.transactions.length);
  });

  test("after a rollback, tokens and pools equal those of a database that never saw the slot", async () => {
    const other = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    const otherDb = createDb(other.url, { max: 1 });
    try {
      await createStore({ db: otherDb }).writeBlocks([blocks[0]!], { commitment: "confirmed" });
      await store.rollbackSlots([blocks[1]!.slot]);
      const [a, b] = await Promise.all([digestTables(database.url), digestTables(other.url)]);
      for (const t of [
        "tokens",
        "pools",
        "transactions",
        "token_transfers",
        "swaps",
        "liquidity_events",
        "program_events",
      ])
        expect(a[t], t).toEqual(b[t]);
      // Both blocks touch shared mints and pools: the rollback had real work to undo.
      expect(blocks[1]!.transactions.flatMap((t) => t.pools).length).toBeGreaterThan(0);
    } finally {
      await otherDb.$client.end();
      await other.drop();
      await store.writeBlocks([blocks[1]!], { commitment: "confirmed" });
    }
  });

  test("a block that lists the same transaction twice is stored once, with no conflict error", async () => {
    const other = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    const h = createDb(other.url, { max: 1 });
    try {
      const block = blocks.find((b) => b.transactions.some((t) => t.swaps.length && t.transfers.length))!;
      const tx = block.transactions.find((t) => t.swaps.length && t.transfers.length)!;
      // a broken or hostile answer: the transaction again, at the end of the block
      const doubled: DecodedBlock = { ...block, transactions: [...block.transactions, tx] };
      const counts = await createStore({ db: h }).writeBlocks([doubled], { commitment: "confirmed" });
      expect(counts.transactions).toBe(block.transactions.length);
      const n = async (table: string) =>
        (
          await h.$client.query(`select count(*)::int as n from ${table} where signature = $1`, [
            tx.transaction.signature,
          ])
        ).rows[0].n;
      expect(await n("transactions")).toBe(1);
      expect(await n("swaps")).toBe(tx.swaps.length);
      expect(await n("token_transfers")).toBe(tx.transfers.length);
      // the candles count each swap once
      const swaps = await h.$client.query(`select coalesce(sum(swaps), 0)::int as n from pool_candles`);
      const stored = await h.$client.query(`select count(*)::int as n from swaps where block_time is not null`);
      expect(swaps.rows[0].n).toBe(stored.rows[0].n);
    } finally {
      await h.$client.end();
      await other.drop();
    }
  });
});
