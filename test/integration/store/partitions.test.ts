import pg from "pg";
import { afterEach, beforeAll, describe, expect, inject, test } from "vitest";
import { createDb, type Db } from "../../../core/db.js";
import { PRESET_NAMES } from "../../../core/presets.js";
import { type DecodedBlock, createDecoder } from "../../../indexer/decode/index.js";
import { PARTITIONS_AHEAD, upkeepOnce } from "../../../indexer/ingest/index.js";
import { createStore } from "../../../indexer/store/index.js";
import { digestTables } from "../../setup/digest.js";
import { decodedFixtureBlocks } from "../../setup/fixtures.js";
import { createTestDatabase } from "../../setup/services.js";

const WIDTH = 432_000;
const RAW = ["transactions", "token_transfers", "swaps", "liquidity_events", "program_events", "trades"];
const SLOT_KEYS = new Set(["slot", "firstSeenSlot", "lastSwapSlot", "reservesSlot", "createdSlot", "initSlot"]);

/** `b` at slot `to`; with `suffix`, every signature is suffixed (a distinct transaction), else the same ones. */
function atSlot(b: DecodedBlock, to: number, suffix = false): DecodedBlock {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object" && !(v instanceof Date)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (SLOT_KEYS.has(k) && x === b.slot) out[k] = to;
        else if (suffix && (k === "signature" || k === "createdSignature") && typeof x === "string")
          out[k] = `${x}-${to}`;
        else out[k] = walk(x);
      }
      return out;
    }
    return v;
  };
  return walk(b) as DecodedBlock;
}

async function counts(db: Db): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of RAW)
    out[t] = (await db.$client.query<{ n: number }>(`select count(*)::int as n from ${t}`)).rows[0]!.n;
  return out;
}

describe("store: slot partitions", () => {
  let blocks: DecodedBlock[];
  // the first slot of a partition: A is the last slot of the one before, so A and B sit in two partitions
  let edge: number;
  const dbs: { db: Db; drop: () => Promise<void>; url: string }[] = [];
  beforeAll(() => {
    blocks = decodedFixtureBlocks(createDecoder({ programs: PRESET_NAMES }));
    edge = (Math.floor(Math.max(...blocks.map((b) => b.slot)) / WIDTH) + 2) * WIDTH;
  });
  afterEach(async () => {
    for (const d of dbs.splice(0)) {
      await d.db.$client.end();
      await d.drop();
    }
  });

  async function fresh() {
    const database = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    const db = createDb(database.url, { max: 2 });
    const entry = { db, drop: database.drop, url: database.url };
    dbs.push(entry);
    return { ...entry, store: createStore({ db }) };
  }

  test("a signature stored at slot A, A rolled back, landing at slot B: one row per key, at B, as if A never was", async () => {
    const [a, b] = [edge - 1, edge + 2];
    const x = await fresh();
    await x.store.writeBlocks([atSlot(blocks[0]!, a)], { commitment: "confirmed" });
    const atA = await counts(x.db);
    expect(atA.transactions).toBeGreaterThan(0);
    expect((atA.swaps ?? 0) + (atA.token_transfers ?? 0)).toBeGreaterThan(0);
    await x.store.rollbackSlots([a]);
    await x.store.writeBlocks([atSlot(blocks[0]!, b)], { commitment: "confirmed" });
    expect(await counts(x.db)).toEqual(atA);
    const slots = await x.db.$client.query<{ slot: string }>("select distinct slot::text from transactions");
    expect(slots.rows).toEqual([{ slot: String(b) }]);
    const onlyB = await fresh();
    await onlyB.store.writeBlocks([atSlot(blocks[0]!, b)], { commitment: "confirmed" });
    expect(await digestTables(x.url)).toEqual(await digestTables(onlyB.url));
  });

  test("landing at slot B before A is rolled back moves the rows (no second row), and supply counts them once", async () => {
    const [a, b] = [edge - 1, edge + 2];
    const x = await fresh();
    await x.store.writeBlocks([atSlot(blocks[0]!, a)], { commitment: "confirmed" });
    await x.store.writeBlocks([atSlot(blocks[0]!, b)], { commitment: "confirmed" });
    const onlyB = await fresh();
    await onlyB.store.writeBlocks([atSlot(blocks[0]!, b)], { commitment: "confirmed" });
    const raw = (d: Record<string, unknown>) => Object.fromEntries(RAW.map((t) => [t, d[t]]));
    expect(raw(await digestTables(x.url))).toEqual(raw(await digestTables(onlyB.url)));
    const dupes = await x.db.$client.query(
      "select signature from transactions group by signature having count(*) > 1 union all select signature from swaps group by signature, instruction_path having count(*) > 1",
    );
    expect(dupes.rows).toEqual([]);
    // A's fate arrives: nothing of it is left, everything equals a database that only saw B
    await x.store.rollbackSlots([a]);
    expect(await digestTables(x.url)).toEqual(await digestTables(onlyB.url));
  });

  test("a block delivered twice is stored once", async () => {
    const x = await fresh();
    await x.store.writeBlocks([atSlot(blocks[1]!, edge + 5)], { commitment: "confirmed" });
    const once = await digestTables(x.url);
    await x.store.writeBlocks([atSlot(blocks[1]!, edge + 5)], { commitment: "confirmed" });
    await x.store.writeBlocks([atSlot(blocks[1]!, edge + 5)], { commitment: "confirmed" });
    expect(await digestTables(x.url)).toEqual(once);
  });

  test("partitions are made for a batch's slots and the next, idempotently from many writers at once", async () => {
    const x = await fresh();
    const stores = Array.from({ length: 4 }, () => createStore({ db: x.db }));
    await Promise.all(
      stores.map((s, i) => s.writeBlocks([atSlot(blocks[0]!, edge + 10 + i, true)], { commitment: "confirmed" })),
    );
    const parts = await x.db.$client.query<{ name: string }>(
      "select relname as name from pg_class where relnamespace = 'slot_partitions'::regnamespace and relkind = 'r' order by 1",
    );
    const n = String(edge / WIDTH).padStart(6, "0");
    const next = String(edge / WIDTH + 1).padStart(6, "0");
    expect(parts.rows.map((r) => r.name)).toEqual(RAW.flatMap((t) => [`${t}_p${n}`, `${t}_p${next}`]).sort());
    expect((await counts(x.db)).transactions).toBe(4 * blocks[0]!.transactions.length);
    // the tables the pricing stage updates after the store keep room in their pages for heap-only updates
    const ff = await x.db.$client.query<{ name: string; opts: string[] | null }>(
      "select relname as name, reloptions as opts from pg_class where relnamespace = 'slot_partitions'::regnamespace and relkind = 'r'",
    );
    for (const r of ff.rows)
      expect([r.name, r.opts]).toEqual([r.name, /^(swaps|trades)_p/.test(r.name) ? ["fillfactor=60"] : null]);
  });

  test("retention drops whole partitions behind the resume point and pricing; balances, holders, pools and candles stay exact", async () => {
    const x = await fresh();
    // three partitions, one block in each, distinct transactions
    const slots = [edge + 10, edge + WIDTH + 10, edge + 2 * WIDTH + 10];
    for (const [i, s] of slots.entries())
      await x.store.writeBlocks([atSlot(blocks[i % 2]!, s, true)], { commitment: "confirmed" });
    const derived = ["token_accounts", "token_holders", "wallets", "pools", "pool_candles", "tokens"];
    const keep = async () =>
      Object.fromEntries(
        await Promise.all(
          derived.map(async (t) => [t, (await x.db.$client.query(`select * from ${t} order by 1, 2`)).rows] as const),
        ),
      );
    const before = await keep();
    const lastOnly = await counts(x.db).then(async () => {
      const out: Record<string, number> = {};
      for (const t of RAW)
        out[t] = (
          await x.db.$client.query<{ n: number }>(`select count(*)::int as n from ${t} where slot >= $1`, [slots[2]])
        ).rows[0]!.n;
      return out;
    });
    expect(lastOnly.transactions).toBeGreaterThan(0);

    // no cursors yet: nothing is dropped
    expect(await x.store.applyRetention(100_000)).toEqual({ horizon: null, dropped: 0 });
    const top = slots[2]! + 100_000 + 5;
    await x.db.$client.query(
      "insert into cursors (id, kind, slot) values ('live', 'live', $1), ('pricing', 'pricing', $2)",
      [top, top - 50_000],
    );
    // the pricing stage is behind: the horizon follows it, and the middle partition is not wholly past it yet
    let r = await x.store.applyRetention(100_000);
    expect(r).toEqual({ horizon: top - 150_000, dropped: RAW.length });
    expect((await counts(x.db)).transactions).toBeGreaterThan(lastOnly.transactions ?? 0);
    await x.db.$client.query("update cursors set slot = $1 where id = 'pricing'", [top]);
    r = await x.store.applyRetention(100_000);
    expect(r).toEqual({ horizon: top - 100_000, dropped: RAW.length });
    expect(await counts(x.db)).toEqual(lastOnly);
    expect(await keep()).toEqual(before);
    const floor = await x.db.$client.query<{ slot: string }>("select slot::text from cursors where id = 'retention'");
    expect(floor.rows).toEqual([{ slot: String(edge + 2 * WIDTH) }]);
    // a slot below the floor is refused for good, in any process
    await expect(
      createStore({ db: x.db }).writeBlocks([atSlot(blocks[0]!, slots[0]! + 1, true)], { commitment: "confirmed" }),
    ).rejects.toThrow(/below the retention floor/);
    // again: nothing more to drop
    expect((await x.store.applyRetention(100_000)).dropped).toBe(0);
  });

  test("retention keeps of each pool's reserve changes below its floor only what a rollback reads; above it, every one (a backfill there is priced again from them)", async () => {
    const x = await fresh();
    // six slots of one partition, then one two partitions later
    const low = Array.from({ length: 6 }, (_, i) => edge + 10 + i);
    for (const s of low) await x.store.writeBlocks([atSlot(blocks[0]!, s, true)], { commitment: "confirmed" });
    const high = edge + 2 * WIDTH + 10;
    await x.store.writeBlocks([atSlot(blocks[0]!, high, true)], { commitment: "confirmed" });
    const perPool = async (below: number) =>
      (
        await x.db.$client.query<{ n: number }>(
          `select count(*)::int as n from slot_changes where kind = 'pool' and reserve_a is not null and slot < $1
           group by key order by 1 desc limit 1`,
          [below],
        )
      ).rows[0]?.n ?? 0;
    // finality keeps every reserve change (the pricing stage may be rewound below them)
    await x.store.markFinalized(high);
    expect(await perPool(high)).toBe(low.length);
    await x.db.$client.query(
      "insert into cursors (id, kind, slot) values ('live', 'live', $1), ('pricing', 'pricing', $1)",
      [high + 100_000],
    );
    expect((await x.store.applyRetention(100_000)).dropped).toBe(RAW.length * 2);
    // below the floor a pool keeps its first, last, last-swap and last-reserves rows at most
    const kept = await perPool(high);
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(4);
    expect(kept).toBeLessThan(low.length);
  });

  test("upkeep makes the partitions ahead of the resume point: a writer crossing into them while a long read holds the tables stores at once", async () => {
    const x = await fresh();
    const resume = edge - 10;
    const noRetention = { keepSlots: 0 };
    // no resume point yet: nothing to do, tried again soon
    expect(await upkeepOnce(x.store, noRetention)).toMatchObject({ done: false });
    await x.db.$client.query("insert into cursors (id, kind, slot) values ('live', 'live', $1)", [resume]);
    const r = await upkeepOnce(x.store, noRetention);
    const first = Math.floor(resume / WIDTH);
    expect(r).toEqual({ done: true, madeUpTo: (first + PARTITIONS_AHEAD + 1) * WIDTH, horizon: null, dropped: 0 });
    const parts = await x.db.$client.query<{ t: string; n: number }>(
      `select t, count(*)::int as n from unnest($1::text[]) t
       join pg_class c on c.relname like t || '\\_p%' join pg_namespace ns on ns.oid = c.relnamespace and ns.nspname = 'slot_partitions'
       where c.relkind = 'r' and substring(c.relname from '_p([0-9]+)$')::int between $2 and $3 group by t order by t`,
      [RAW, first, first + PARTITIONS_AHEAD],
    );
    expect(parts.rows).toEqual([...RAW].sort().map((t) => ({ t, n: PARTITIONS_AHEAD + 1 })));

    // A dashboard's long read holds every raw table (and its partitions) until it ends.
    const reader = new pg.Client({ connectionString: x.url });
    await reader.connect();
    try {
      await reader.query("begin");
      for (const t of RAW) await reader.query(`select count(*) from ${t}`);
      // a worker process of its own (nothing cached) stores the next partition's first slots: made ahead, it needs
      // no lock on the busy tables (without the upkeep it waits out the 3 s lock timeout and is refused)
      const worker = createStore({ db: x.db });
      const t0 = performance.now();
      await worker.writeBlocks([atSlot(blocks[0]!, edge + 1)], { commitment: "confirmed" });
      expect(performance.now() - t0).toBeLessThan(2_500);
      // while one past the headroom still has to make its partition, and gives up behind the read
      await expect(
        worker.writeBlocks([atSlot(blocks[0]!, r.madeUpTo! + WIDTH, true)], { commitment: "confirmed" }),
      ).rejects.toThrow(/its table is busy/);
    } finally {
      await reader.query("rollback");
      await reader.end();
    }
    expect((await counts(x.db)).transactions).toBeGreaterThan(0);
  });
});
