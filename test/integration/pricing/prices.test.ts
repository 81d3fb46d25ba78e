/**
 * The pricing stage over the two whole mainnet blocks: SOL's price from the blocks' own SOL/stablecoin swaps,
 * recomputed here from the stored rows; the liquidity floor; exact stablecoin values; and the same rows whatever
 * the order blocks are stored in, however runs are split, after finality pruning and after a rollback.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { parseConfig } from "../../../core/config.js";
import { createDb, type Db } from "../../../core/db.js";
import { PRESET_NAMES, USDC_MINT, USDT_MINT, WSOL_MINT } from "../../../core/presets.js";
import { type DecodedBlock, createDecoder } from "../../../indexer/decode/index.js";
import { createPricer } from "../../../indexer/pricing/index.js";
import { createStore, type Store } from "../../../indexer/store/index.js";
import { digestTables } from "../../setup/digest.js";
import { decodedFixtureBlocks } from "../../setup/fixtures.js";
import { createTestDatabase } from "../../setup/services.js";

const SLOT_KEYS = new Set(["slot", "parentSlot", "firstSeenSlot", "lastSwapSlot", "reservesSlot", "createdSlot"]);
const STABLES = [USDC_MINT, USDT_MINT];

/** Copy `j` of `b`: slots 100*j later, block times 9*j s later, signatures suffixed (distinct rows). */
function copyBlock(b: DecodedBlock, j: number): DecodedBlock {
  const walk = (v: unknown, key?: string): unknown => {
    if (v instanceof Date) return new Date(v.getTime() + 9_000 * j);
    if (Array.isArray(v)) return v.map((x) => walk(x));
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    if (typeof v === "number" && key && SLOT_KEYS.has(key)) return v + 100 * j;
    if (typeof v === "number" && key === "blockTime") return v + 9 * j;
    if (typeof v === "string" && (key === "signature" || key === "createdSignature")) return `${v}-${j}`;
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

/**
 * SOL's unit price (USD per lamport, scaled by 10^36 and rounded half up) after `slot`, recomputed from the stored rows: of the
 * SOL/stablecoin pools whose stablecoin reserve (latest slot_changes row at or below the slot) makes twice its USD
 * value at least `floor`, the deepest; its price is what its swaps moved of each mint in its last slot with swaps.
 */
const SOL_ORACLE = `
  with cand as (
    select address, case when mint_a = $1 then mint_b else mint_a end as stable, mint_a = $1 as sol_is_a
    from pools where (mint_a = $1 and mint_b = any($2::text[])) or (mint_b = $1 and mint_a = any($2::text[]))),
  res as (
    select c.address, 2 * (case when c.sol_is_a then r.reserve_b else r.reserve_a end) / 1e6 as liquidity
    from cand c cross join lateral (
      select reserve_a, reserve_b from slot_changes
      where kind = 'pool' and key = c.address and slot <= $3 and reserve_a is not null
      order by slot desc limit 1) r),
  vol as (
    select c.address, v.sol, v.usd from cand c cross join lateral (
      select slot, sum(case when mint_in = $1 then amount_in else amount_out end) as sol,
             sum(case when mint_in = $1 then amount_out else amount_in end) as usd
      from swaps where pool = c.address and slot <= $3 group by slot
      having sum(case when mint_in = $1 then amount_in else amount_out end) > 0
         and sum(case when mint_in = $1 then amount_out else amount_in end) > 0
      order by slot desc limit 1) v)
  select r.address, r.liquidity::text, div(2 * v.usd * 1e30 + v.sol, 2 * v.sol)::text as scaled_price
  from res r join vol v using (address) where r.liquidity >= $4
  order by r.liquidity desc, r.address limit 1`;

describe("pricing stage", () => {
  let blocks: DecodedBlock[];
  let copies: DecodedBlock[];
  const dbs: { drop(): Promise<void> }[] = [];
  const handles: Db[] = [];

  beforeAll(() => {
    blocks = decodedFixtureBlocks(createDecoder({ programs: PRESET_NAMES }));
    copies = [0, 1, 2, 3].flatMap((j) => blocks.map((b) => copyBlock(b, j))).sort((a, b) => a.slot - b.slot);
  });
  afterAll(async () => {
    for (const h of handles) await h.$client.end();
    for (const d of dbs) await d.drop();
  });

  async function fresh(env: Record<string, string> = {}) {
    const d = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    dbs.push(d);
    const db = createDb(d.url, { max: 2 });
    handles.push(db);
    const store: Store = createStore({ db });
    return { url: d.url, store, sql: db.$client, pricer: createPricer({ db, config: parseConfig(env) }) };
  }

  const row = async <T extends pg.QueryResultRow>(sql: pg.Pool, text: string, params: unknown[] = []) =>
    (await sql.query<T>(text, params)).rows[0];
  const one = async <T extends pg.QueryResultRow>(sql: pg.Pool, text: string, params: unknown[] = []) =>
    (await row<T>(sql, text, params))!;

  test("SOL's price after each block is the deepest SOL/stablecoin pool's swap price, recomputed from the rows", async () => {
    const { store, sql, pricer } = await fresh();
    await store.writeBlocks(blocks, { commitment: "confirmed" });
    expect(await pricer.catchUp({ upTo: blocks.at(-1)!.slot })).toBe(blocks.at(-1)!.slot);
    for (const b of blocks) {
      const expected = await one<{ address: string; scaled_price: string }>(sql, SOL_ORACLE, [
        WSOL_MINT,
        STABLES,
        b.slot,
        10_000,
      ]);
      const stored = await one<{ pool: string; unit_price_usd: string; per_sol: string }>(
        sql,
        `select pool, unit_price_usd::text, (unit_price_usd * 1e9)::text as per_sol from token_prices
         where mint = $1 and slot <= $2 order by slot desc limit 1`,
        [WSOL_MINT, b.slot],
      );
      expect(stored.pool).toBe(expected.address);
      expect(Number(stored.unit_price_usd)).toBeGreaterThan(0);
      const scaled = await one<{ s: string }>(sql, "select ($1::numeric * 1e36)::text as s", [stored.unit_price_usd]);
      expect(BigInt(scaled.s.replace(/\.0*$/, ""))).toBe(BigInt(expected.scaled_price));
      // April 2025: SOL traded between 95 and 180 USD
      expect(Number(stored.per_sol)).toBeGreaterThan(95);
      expect(Number(stored.per_sol)).toBeLessThan(180);
    }
  });

  test("a pool below the liquidity floor sets no price: SOL's comes from the deepest pool at or above it", async () => {
    const low = await fresh();
    await low.store.writeBlocks(blocks, { commitment: "confirmed" });
    await low.pricer.catchUp({ upTo: blocks.at(-1)!.slot });
    // The first block's SOL price comes from a pool whose liquidity is under 20,000 USD (a thin one) ...
    const first = await one<{ pool: string; liquidity_usd: string }>(
      low.sql,
      "select pool, liquidity_usd::text from token_prices where mint = $1 and slot = $2",
      [WSOL_MINT, blocks[0]!.slot],
    );
    const thin = Number(first.liquidity_usd);
    expect(thin).toBeLessThan(20_000);
    // ... which a floor just above it shuts out: no price from it, every price set by a pool at or above the floor.
    const floor = Math.ceil(thin) + 1;
    const high = await fresh({ PRICE_MIN_LIQUIDITY_USD: String(floor) });
    await high.store.writeBlocks(blocks, { commitment: "confirmed" });
    await high.pricer.catchUp({ upTo: blocks.at(-1)!.slot });
    const fromThin = await one<{ n: number }>(high.sql, "select count(*)::int as n from token_prices where pool = $1", [
      first.pool,
    ]);
    expect(fromThin.n).toBe(0);
    const under = await one<{ n: number; all: number }>(
      high.sql,
      "select count(*) filter (where liquidity_usd < $1)::int as n, count(*)::int as all from token_prices",
      [floor],
    );
    expect(under.all).toBeGreaterThan(0);
    expect(under.n).toBe(0);
    // and the SOL price that is set is still the deepest qualifying pool's
    const expected = await row<{ address: string }>(high.sql, SOL_ORACLE, [
      WSOL_MINT,
      STABLES,
      blocks.at(-1)!.slot,
      floor,
    ]);
    const stored = await row<{ pool: string }>(
      high.sql,
      "select pool from token_prices where mint = $1 order by slot desc limit 1",
      [WSOL_MINT],
    );
    expect(stored?.pool).toBe(expected?.address);
  });

  test("a swap or trade with a stablecoin side is worth exactly its stablecoin amount", async () => {
    const { store, sql, pricer } = await fresh();
    await store.writeBlocks(blocks, { commitment: "confirmed" });
    await pricer.catchUp({ upTo: blocks.at(-1)!.slot });
    const swaps = await one<{ n: number; off: number; unpriced: number }>(
      sql,
      `select count(*)::int as n,
         count(*) filter (where value_usd is distinct from (case when mint_in = any($1::text[]) then amount_in else amount_out end) / 1e6)::int as off,
         (select count(*)::int from swaps where value_usd is null) as unpriced
       from swaps where mint_in = any($1::text[]) or mint_out = any($1::text[])`,
      [STABLES],
    );
    expect(swaps.n).toBeGreaterThan(10);
    expect(swaps.off).toBe(0);
    const trades = await one<{ n: number; off: number }>(
      sql,
      `select count(*)::int as n,
         count(*) filter (where value_usd is distinct from (case when sold_mint = any($1::text[]) then sold_amount else bought_amount end) / 1e6)::int as off
       from trades where sold_mint = any($1::text[]) or bought_mint = any($1::text[])`,
      [STABLES],
    );
    expect(trades.n).toBeGreaterThan(0);
    expect(trades.off).toBe(0);
    // A SOL-for-token swap is its SOL amount at SOL's price after its slot.
    const sol = await one<{ n: number; off: number }>(
      sql,
      `select count(*)::int as n, count(*) filter (where s.value_usd is distinct from round(
           (case when s.mint_in = $1 then s.amount_in else s.amount_out end) * p.unit_price_usd, 12))::int as off
       from swaps s cross join lateral (
         select unit_price_usd from token_prices where mint = $1 and slot <= s.slot order by slot desc limit 1) p
       where $1 in (s.mint_in, s.mint_out) and not (s.mint_in = any($2::text[]) or s.mint_out = any($2::text[]))`,
      [WSOL_MINT, STABLES],
    );
    expect(sol.n).toBeGreaterThan(10);
    expect(sol.off).toBe(0);
  });

  test("the same rows whatever the order blocks are stored in and however the runs are split", async () => {
    const upTo = copies.at(-1)!.slot;
    const ordered = await fresh();
    for (const b of copies) await ordered.store.writeBlocks([b], { commitment: "confirmed" });
    await ordered.pricer.catchUp({ upTo });
    const expected = await digestTables(ordered.url, { pricing: true });
    expect(expected.token_prices!.rows).toBeGreaterThan(copies.length);

    // Shuffled, priced behind the contiguous stored prefix (the resume point) after each write, two slots a run.
    const behind = await fresh();
    const order = shuffle(copies, 7);
    const stored = new Set<number>();
    for (const b of order) {
      await behind.store.writeBlocks([b], { commitment: "confirmed" });
      stored.add(b.slot);
      const prefix = copies.findIndex((c) => !stored.has(c.slot));
      const resume = prefix === -1 ? upTo : prefix === 0 ? null : copies[prefix - 1]!.slot;
      if (resume != null) await behind.pricer.catchUp({ upTo: resume, maxSlots: 2 });
    }
    expect(await digestTables(behind.url, { pricing: true })).toEqual(expected);

    // Shuffled, priced ahead of what is stored (a backfill below the cursor): each earlier slot rewinds the stage.
    const ahead = await fresh();
    for (const b of shuffle(copies, 11)) {
      await ahead.store.writeBlocks([b], { commitment: "confirmed" });
      await ahead.pricer.catchUp({ upTo, maxSlots: 3 });
    }
    expect(await digestTables(ahead.url, { pricing: true })).toEqual(expected);
  }, 60_000);

  test("finality pruning keeps the reserves the stage has not read; a rollback is priced again from the rest", async () => {
    const upTo = copies.at(-1)!.slot;
    const dropped = [copies[2]!.slot, copies[5]!.slot];
    const without = await fresh();
    await without.store.writeBlocks(
      copies.filter((c) => !dropped.includes(c.slot)),
      { commitment: "confirmed" },
    );
    await without.pricer.catchUp({ upTo });
    const expected = await digestTables(without.url, { pricing: true });

    const forked = await fresh();
    await forked.pricer.advance({ upTo: 0 }); // the stage exists before anything is stored, as in a daemon
    await forked.store.writeBlocks(copies, { commitment: "confirmed" });
    await forked.pricer.catchUp({ upTo: copies[3]!.slot });
    // Finalizing everything prunes the change log only up to the stage's cursor.
    await forked.store.markFinalized(copies[1]!.slot);
    await forked.pricer.catchUp({ upTo });
    await forked.store.rollbackSlots(dropped);
    const after = await one<{ slot: string }>(forked.sql, "select slot::text from cursors where id = 'pricing'");
    expect(Number(after.slot)).toBe(dropped[0]! - 1);
    await forked.pricer.catchUp({ upTo });
    expect(await digestTables(forked.url, { pricing: true })).toEqual(expected);
  }, 60_000);

  test("a backfill below finalized, pruned slots is priced again from their reserves", async () => {
    const upTo = copies.at(-1)!.slot;
    const all = await fresh();
    await all.store.writeBlocks(copies, { commitment: "confirmed" });
    await all.pricer.catchUp({ upTo });
    const expected = await digestTables(all.url, { pricing: true });

    // The first slot is left for a backfill; the rest is stored, priced and finalized, which prunes the change log
    // up to the stage's cursor. The backfill then rewinds the stage below every pruned slot.
    const run = await fresh();
    await run.pricer.advance({ upTo: 0 });
    await run.store.writeBlocks(copies.slice(1), { commitment: "confirmed" });
    await run.pricer.catchUp({ upTo });
    expect(await run.store.markFinalized(upTo)).toBeGreaterThan(0);
    await run.store.writeBlocks([copies[0]!], { commitment: "confirmed" });
    const rewound = await one<{ slot: string }>(run.sql, "select slot::text from cursors where id = 'pricing'");
    expect(Number(rewound.slot)).toBe(copies[0]!.slot - 1);
    await run.pricer.catchUp({ upTo });
    expect(await digestTables(run.url, { pricing: true })).toEqual(expected);
  }, 60_000);
});
