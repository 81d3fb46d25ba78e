/**
 * pool_candles, the one-minute candles the store keeps: always equal to an aggregate of `swaps` computed from
 * scratch here, whatever the batching, duplicate delivery, concurrent writers and rollbacks.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { createDb, type Db } from "../../../core/db.js";
import { type DecodedBlock, createDecoder } from "../../../indexer/decode/index.js";
import { MIGRATIONS_FOLDER } from "../../../core/migrate.js";
import { PRESET_NAMES } from "../../../core/presets.js";
import { SHARED_ROWS_LOCK_KEY, createStore, type Store } from "../../../indexer/store/index.js";
import { decodedFixtureBlocks } from "../../setup/fixtures.js";
import { FROM_SCRATCH } from "../../setup/candles-oracle.js";
import { createTestDatabase } from "../../setup/services.js";
import { twoHopBlocks } from "../../unit/decode/fixture-txs.js";

const SLOT_KEYS = new Set(["slot", "parentSlot", "firstSeenSlot", "lastSwapSlot", "reservesSlot", "createdSlot"]);
/** Copies of the two mainnet blocks, 9 s apart: ~7 copies share a minute, so batches keep touching the same candles. */
const COPIES = 16;
const COPY_SECONDS = 9;

/**
 * Copy `j` of `b`: slots 100*j later, block times `seconds` later, signatures suffixed (distinct rows) unless `same`.
 */
function copyBlock(b: DecodedBlock, j: number, seconds: number, same = false): DecodedBlock {
  const walk = (v: unknown, key?: string): unknown => {
    if (v instanceof Date) return new Date(v.getTime() + seconds * 1000);
    if (Array.isArray(v)) return v.map((x) => walk(x));
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    if (typeof v === "number" && key && SLOT_KEYS.has(key)) return v + 100 * j;
    if (typeof v === "number" && key === "blockTime") return v + seconds;
    if (typeof v === "string" && !same && (key === "signature" || key === "createdSignature")) return `${v}-${j}`;
    return v;
  };
  return walk(b) as DecodedBlock;
}

/** A seeded shuffle (the same order on every run). */
function shuffle<T>(xs: T[], seed: number): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe("store: pool_candles", () => {
  let blocks: DecodedBlock[];
  const dbs: { drop(): Promise<void> }[] = [];
  const handles: Db[] = [];

  beforeAll(() => {
    const decoder = createDecoder({ programs: PRESET_NAMES });
    const originals = decodedFixtureBlocks(decoder);
    blocks = originals.flatMap((b) => Array.from({ length: COPIES }, (_, j) => copyBlock(b, j, COPY_SECONDS * j)));
    // Unpriced swaps (both amounts zero: no ratio): every swap of the least active pool, so its minutes have no
    // open/close at all, and the first swap of each copy of the busiest pool, so open skips it.
    const swaps = blocks.flatMap((b) => b.transactions.flatMap((t) => t.swaps));
    const perPool = new Map<string, number>();
    for (const s of swaps) perPool.set(s.pool, (perPool.get(s.pool) ?? 0) + 1);
    const ranked = [...perPool.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const [quiet, busy] = [ranked.at(-1)![0], ranked[0]![0]];
    for (const b of blocks) {
      const mine = b.transactions.flatMap((t) => t.swaps);
      for (const s of mine.filter((s) => s.pool === quiet)) s.amountIn = s.amountOut = 0n;
      const first = mine.find((s) => s.pool === busy);
      if (first) first.amountIn = first.amountOut = 0n;
    }
    // Swaps without a block time are in no candle.
    for (const s of blocks[3]!.transactions.flatMap((t) => t.swaps).slice(0, 5)) s.blockTime = null;
  });
  afterAll(async () => {
    for (const h of handles) await h.$client.end();
    for (const d of dbs) await d.drop();
  });

  async function fresh(max: number): Promise<{ url: string; store: Store; sql: pg.Pool }> {
    const d = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    dbs.push(d);
    const handle = createDb(d.url, { max });
    handles.push(handle);
    return { url: d.url, store: createStore({ db: handle }), sql: handle.$client };
  }

  const stored = async (sql: pg.Pool) =>
    (await sql.query<{ r: string }>(`select c::text as r from pool_candles c order by pool, bucket`)).rows.map(
      (x) => x.r,
    );
  const scratch = async (sql: pg.Pool) => (await sql.query<{ r: string }>(FROM_SCRATCH)).rows.map((x) => x.r);

  test("two-hop swaps (second leg N#1) from every recorded transaction that has one: stored, with their candles", async () => {
    const decoder = createDecoder({ programs: PRESET_NAMES });
    const twoHop = twoHopBlocks(decoder);
    expect(twoHop.length).toBeGreaterThan(0);
    const { store, sql } = await fresh(1);
    // in two batches, the second one first: candles merge across batches through the path key too
    await store.writeBlocks(twoHop.slice(Math.ceil(twoHop.length / 2)), { commitment: "confirmed" });
    await store.writeBlocks(twoHop.slice(0, Math.ceil(twoHop.length / 2)), { commitment: "confirmed" });
    const legs = await sql.query(`select count(*)::int as n from swaps where instruction_path like '%#%'`);
    const stored2 = twoHop.flatMap((b) => b.transactions.flatMap((t) => t.swaps));
    expect(legs.rows[0].n).toBe(stored2.filter((s) => s.instructionPath.includes("#")).length);
    expect(await stored(sql)).toEqual(await scratch(sql));
  });

  test("each block delivered once, shuffled, by two concurrent writers (every swap new: merged, never recomputed): pool_candles equals the aggregate of the swaps", {
    timeout: 120_000,
  }, async () => {
    const { store, sql } = await fresh(2);
    const order = shuffle(blocks, 5);
    await Promise.all(
      [0, 1].map(async (w) => {
        const mine = order.filter((_, i) => i % 2 === w);
        for (let i = 0; i < mine.length; i += 2)
          await store.writeBlocks(mine.slice(i, i + 2), { commitment: "confirmed" });
      }),
    );
    expect(await stored(sql)).toEqual(await scratch(sql));
    // Out of order: later minutes were written before earlier ones and a minute's open came after its close.
    const busy = (await sql.query(`select count(*)::int as n from pool_candles where swaps > 5`)).rows[0];
    expect(busy.n).toBeGreaterThan(20);
  });

  test("shuffled batches delivered twice by two concurrent writers, then a rollback: pool_candles equals the aggregate of the swaps", {
    timeout: 180_000,
  }, async () => {
    const { store, sql } = await fresh(2);
    // Two deliveries of every block, each shuffled and cut into batches of 1-3 blocks; the batches of both
    // deliveries are shuffled together and dealt to two writers that run at once.
    const batches: DecodedBlock[][] = [];
    for (const [d, seed] of [
      [0, 7],
      [1, 11],
    ] as const) {
      const order = shuffle(blocks, seed);
      for (let i = 0, k = d; i < order.length; k++) {
        const n = 1 + (k % 3);
        batches.push(order.slice(i, i + n));
        i += n;
      }
    }
    const dealt = shuffle(batches, 3);
    let deadlocks = 0;
    const write = async (batch: DecodedBlock[]) => {
      // Two writers storing the same slot at once may deadlock on its rows (not on candles): retried, as the queue
      // does.
      for (;;)
        try {
          return await store.writeBlocks(batch, { commitment: "confirmed" });
        } catch (err) {
          if ((err as { code?: string }).code !== "40P01" || ++deadlocks > 20) throw err;
        }
    };
    await Promise.all(
      [0, 1].map(async (w) => {
        for (const b of dealt.filter((_, i) => i % 2 === w)) await write(b);
      }),
    );

    const expected = await scratch(sql);
    expect(await stored(sql)).toEqual(expected);
    // The data exercises what it must: many candles of several swaps, unpriced minutes, swaps without a time.
    const shape = (
      await sql.query(`select count(*)::int n, count(*) filter (where swaps > 5)::int busy, count(*) filter (where open is null)::int unpriced,
        (select count(*)::int from swaps where block_time is null) untimed from pool_candles`)
    ).rows[0];
    expect(shape.n).toBeGreaterThan(100);
    expect(shape.busy).toBeGreaterThan(20);
    expect(shape.unpriced).toBeGreaterThan(0);
    expect(shape.untimed).toBe(5);

    // A fork drops the slots of the last minute (its candles disappear) and three slots in the middle (their
    // minutes are recomputed from the swaps that remain).
    const times = await sql.query<{ slot: string; t: Date }>(
      `select slot::text, block_time as t from slots where status = 'indexed' order by slot`,
    );
    const lastMinute = Math.floor(Math.max(...times.rows.map((r) => r.t.getTime())) / 60_000) * 60_000;
    const dropped = [
      ...times.rows.filter((r) => r.t.getTime() >= lastMinute).map((r) => Number(r.slot)),
      ...[5, 12, 17].map((i) => Number(times.rows[i]!.slot)),
    ];
    const lastMinuteRows = await sql.query(`select 1 from pool_candles where bucket = $1`, [new Date(lastMinute)]);
    expect(lastMinuteRows.rowCount).toBeGreaterThan(0);
    await store.rollbackSlots(dropped);
    const after = await scratch(sql);
    expect(after.length).toBeLessThan(expected.length);
    expect(await stored(sql)).toEqual(after);
    expect((await sql.query(`select 1 from pool_candles where bucket = $1`, [new Date(lastMinute)])).rowCount).toBe(0);
    expect(after.filter((r) => !expected.includes(r)).length).toBeGreaterThan(0);
  });

  test("two writers of the same minutes held at the lock together: the one that recomputes last sees the other's swaps", {
    timeout: 60_000,
  }, async () => {
    const { url, store, sql } = await fresh(2);
    // The pools exist already (a slot ten minutes earlier), so no writer locks a new pool row before its candles.
    const seed = copyBlock(blocks[0]!, 39, -600);
    for (const x of [seed, seed]) await store.writeBlocks([x], { commitment: "confirmed" });
    // Two slots of the same block time: every candle they make is shared by both.
    const [a, b] = [copyBlock(blocks[0]!, 40, 0), copyBlock(blocks[0]!, 41, 0)];
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query("select pg_advisory_lock($1)", [SHARED_ROWS_LOCK_KEY]);
      const writes = [a, b].map((x) => store.writeBlocks([x], { commitment: "confirmed" }));
      // Both transactions have stored their swaps and wait (for the lock, or one on the other's candle rows).
      const deadline = Date.now() + 20_000;
      for (;;) {
        const r = await holder.query<{ n: number }>(
          `select count(*)::int n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and wait_event_type = 'Lock'`,
        );
        if (r.rows[0]!.n === 2) break;
        if (Date.now() > deadline) throw new Error("the writers never both waited");
        await new Promise((r) => setTimeout(r, 20));
      }
      await holder.query("select pg_advisory_unlock($1)", [SHARED_ROWS_LOCK_KEY]);
      await Promise.all(writes);
    } finally {
      await holder.end();
    }
    const expected = await scratch(sql);
    expect((await sql.query(`select count(*)::int n from pool_candles where swaps > 1`)).rows[0].n).toBeGreaterThan(0);
    expect(await stored(sql)).toEqual(expected);
  });

  test("a transaction stored again at another slot and minute (it landed again on another fork) leaves its former candles", async () => {
    const { store, sql } = await fresh(1);
    await store.writeBlocks([blocks[0]!], { commitment: "confirmed" });
    const before = await stored(sql);
    // The same transactions two minutes later: their swaps move, and the minute they left holds nothing any more.
    await store.writeBlocks([copyBlock(blocks[0]!, 1, 120, true)], { commitment: "confirmed" });
    const after = await scratch(sql);
    expect(after.length).toBe(before.length);
    expect(after.filter((r) => before.includes(r))).toEqual([]);
    expect(await stored(sql)).toEqual(after);
  });

  test("the migration's fill (an upgraded database) computes the same candles", async () => {
    const { store, sql } = await fresh(1);
    await store.writeBlocks(shuffle(blocks, 5).slice(0, 12), { commitment: "confirmed" });
    const kept = await stored(sql);
    expect(kept.length).toBeGreaterThan(20);
    await sql.query("delete from pool_candles");
    await sql.query(readFileSync(path.join(MIGRATIONS_FOLDER, "0002_pool_candles_fill.sql"), "utf8"));
    expect(await stored(sql)).toEqual(kept);
    expect(kept).toEqual(await scratch(sql));
  });
});
