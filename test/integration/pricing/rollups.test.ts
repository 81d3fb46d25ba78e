/**
 * The market rollups (market_stats, market_traders) over copies of the two whole mainnet blocks spread over two UTC
 * days: every row recomputed here from the raw trades and swaps, and the same rows whatever the order blocks are
 * stored in, however the pricing runs are split, and after a rollback or a backfill below the pricing cursor.
 */
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { parseConfig } from "../../../core/config.js";
import { createDb, type Db } from "../../../core/db.js";
import { PRESET_NAMES } from "../../../core/presets.js";
import { type DecodedBlock, createDecoder } from "../../../indexer/decode/index.js";
import { createPricer } from "../../../indexer/pricing/index.js";
import { createStore } from "../../../indexer/store/index.js";
import { digestTables } from "../../setup/digest.js";
import { decodedFixtureBlocks } from "../../setup/fixtures.js";
import { createTestDatabase } from "../../setup/services.js";
import { copyBlock } from "../../setup/copy-block.js";

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

/**
 * The rollups recomputed from the raw rows up to the pricing cursor, written independently of the stage's SQL: a
 * token's trades from `trades` (buy: bought it), a pool's and a DEX's from `swaps` (a pool's buy took mint A out),
 * buckets by date_trunc in UTC, unique traders by count(distinct).
 */
const ORACLE = `
  with cur as (select slot from cursors where id = 'pricing'),
  src as (
    select 'token' as kind, t.sold_mint as entity, t.trader, t.slot, l.block_time as bt, t.value_usd as v, 0 as buy, 1 as sell
      from trades t join slots l on l.slot = t.slot
    union all
    select 'token', t.bought_mint, t.trader, t.slot, l.block_time, t.value_usd, 1, 0 from trades t join slots l on l.slot = t.slot
    union all
    select 'pool', s.pool, s.trader, s.slot, l.block_time, s.value_usd,
      case when s.mint_out = p.mint_a then 1 else 0 end, case when s.mint_in = p.mint_a then 1 else 0 end
      from swaps s join slots l on l.slot = s.slot join pools p on p.address = s.pool
    union all
    select 'dex', s.dex, s.trader, s.slot, l.block_time, s.value_usd, 0, 0 from swaps s join slots l on l.slot = s.slot),
  b as (
    select src.*, iv, date_trunc(iv, bt, 'UTC') as bucket from src cross join (values ('hour'), ('day')) i(iv)
    where bt is not null and slot <= (select slot from cur))
  select kind, entity, iv as interval, bucket, coalesce(sum(v), 0) as volume_usd, count(*)::int as trades,
    sum(buy)::int as buys, sum(sell)::int as sells, count(distinct trader)::int as traders,
    min(slot) as first_slot, max(slot) as last_slot
  from b group by kind, entity, iv, bucket`;
const STORED = `select kind, entity, interval, bucket, volume_usd, trades, buys, sells, traders, first_slot, last_slot from market_stats`;

describe("market rollups", () => {
  let copies: DecodedBlock[];
  const dbs: { drop(): Promise<void> }[] = [];
  const handles: Db[] = [];

  beforeAll(() => {
    const blocks = decodedFixtureBlocks(createDecoder({ programs: PRESET_NAMES }));
    copies = [0, 1, 2, 3, 4, 5].flatMap((j) => blocks.map((b) => copyBlock(b, j))).sort((a, b) => a.slot - b.slot);
  });
  afterAll(async () => {
    for (const h of handles) await h.$client.end();
    for (const d of dbs) await d.drop();
  });

  async function fresh() {
    const d = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    dbs.push(d);
    const db = createDb(d.url, { max: 2 });
    handles.push(db);
    return {
      url: d.url,
      store: createStore({ db }),
      sql: db.$client,
      pricer: createPricer({ db, config: parseConfig({}) }),
    };
  }

  /** Rows of the oracle not stored and stored rows not in the oracle (numeric compared by value), and counts. */
  async function compare(sql: Db["$client"]) {
    const r = await sql.query<{
      missing: number;
      extra: number;
      n: number;
      traders: number;
      kinds: string[];
      buckets: number;
    }>(
      `with o as (${ORACLE}), s as (${STORED})
       select (select count(*) from (select * from o except select * from s) x)::int as missing,
              (select count(*) from (select * from s except select * from o) x)::int as extra,
              (select count(*) from s)::int as n,
              (select count(*) from market_traders)::int as traders,
              (select array_agg(distinct kind order by kind) from s) as kinds,
              (select count(distinct bucket) from s where interval = 'day')::int as buckets`,
    );
    return r.rows[0]!;
  }

  test("every hourly and daily row equals its recomputation from the raw trades and swaps", async () => {
    const { store, sql, pricer } = await fresh();
    await store.writeBlocks(copies, { commitment: "confirmed" });
    await pricer.catchUp({ upTo: copies.at(-1)!.slot, maxSlots: 3 });
    const c = await compare(sql);
    expect(c.kinds).toEqual(["dex", "pool", "token"]);
    expect(c.buckets).toBe(2);
    expect(c.n).toBeGreaterThan(50);
    expect({ missing: c.missing, extra: c.extra }).toEqual({ missing: 0, extra: 0 });
    // the traders table holds each bucket's distinct traders: its rows per bucket are the stats row's count
    const off = await sql.query(
      `select s.kind, s.entity, s.interval, s.bucket from market_stats s
       where s.traders <> (select count(*) from market_traders m
         where (m.kind, m.entity, m.interval, m.bucket) = (s.kind, s.entity, s.interval, s.bucket))`,
    );
    expect(off.rows).toEqual([]);
    // some volume is priced, and some bucket has more than one trader
    const some = await sql.query<{ v: string; many: number }>(
      "select sum(volume_usd)::text as v, count(*) filter (where traders > 1)::int as many from market_stats",
    );
    expect(Number(some.rows[0]!.v)).toBeGreaterThan(0);
    expect(some.rows[0]!.many).toBeGreaterThan(0);
  });

  test("the same rows whatever the store order and run split, through a rollback and a backfill below the cursor", async () => {
    const upTo = copies.at(-1)!.slot;
    const ordered = await fresh();
    for (const b of copies) await ordered.store.writeBlocks([b], { commitment: "confirmed" });
    await ordered.pricer.catchUp({ upTo });
    const expected = await digestTables(ordered.url, { pricing: true });
    expect(expected.market_stats!.rows).toBeGreaterThan(50);
    // wallet PnL rows are in the digest too (every trade's part per mint, walked from the basis before it)
    expect(expected.wallet_pnl!.rows).toBeGreaterThan(50);

    // shuffled, priced ahead of what is stored: each earlier slot rewinds the stage and its rollups
    const ahead = await fresh();
    for (const b of shuffle(copies, 5)) {
      await ahead.store.writeBlocks([b], { commitment: "confirmed" });
      await ahead.pricer.catchUp({ upTo, maxSlots: 2 });
      const c = await compare(ahead.sql);
      expect({ missing: c.missing, extra: c.extra }).toEqual({ missing: 0, extra: 0 });
    }
    expect(await digestTables(ahead.url, { pricing: true })).toEqual(expected);

    // a fork: slots dropped after they were priced, the rollups back to the rest, then priced on
    const dropped = [copies[3]!.slot, copies[8]!.slot];
    const without = await fresh();
    await without.store.writeBlocks(
      copies.filter((c) => !dropped.includes(c.slot)),
      { commitment: "confirmed" },
    );
    await without.pricer.catchUp({ upTo });
    const forked = await fresh();
    await forked.store.writeBlocks(copies, { commitment: "confirmed" });
    await forked.pricer.catchUp({ upTo });
    await forked.store.rollbackSlots(dropped);
    const mid = await compare(forked.sql);
    expect({ missing: mid.missing, extra: mid.extra }).toEqual({ missing: 0, extra: 0 });
    await forked.pricer.catchUp({ upTo });
    expect(await digestTables(forked.url, { pricing: true })).toEqual(
      await digestTables(without.url, { pricing: true }),
    );
  }, 120_000);
});
