/**
 * The pricing stage: USD prices, pool TVL and every swap's and trade's USD value, computed in chain order behind the
 * live resume point, so they are a function of the chain data up to it whatever the order batches were stored in.
 * @dev one run is one transaction under PRICING_LOCK_KEY: it reads the state its own tables hold at its cursor
 * (`cursors` id 'pricing'), prices the next slots that hold pool moves, swaps or trades, writes their rows (deleting
 * what the range held first) and moves the cursor, all committed together. The store rewinds it (deletes its rows
 * at and above a slot, lowers the cursor) when a slot at or below it is rolled back or stored for the first time.
 */
import type pg from "pg";
import type { Context } from "../../core/context.js";
import { WSOL_MINT } from "../../core/presets.js";
import {
  cursors,
  poolTvl,
  pools,
  slotChanges,
  slots,
  swaps,
  tokenPrices,
  tokens,
  trades,
  transactions,
} from "../../schema/index.js";
import {
  LIVE_CURSOR,
  PRICING_CURSOR,
  addToRollups,
  ensureRankings,
  writeRankingsIfDue,
  PRICING_LOCK_KEY,
  pricingCursor,
  sqlNames,
} from "../store/index.js";
import { type PriceBook, UNIT_SCALE, USD_SCALE, fromDecimal, stableUnitPrice, toDecimal, wholeUsd } from "./compute.js";
import { type PoolState, type SlotInput, priceSlots, repricedBy } from "./engine.js";
import { addToPnl } from "./pnl-rows.js";

export { UNIT_SCALE, USD_SCALE, fromDecimal, toDecimal } from "./compute.js";

/** Slots (holding something to price) one run takes at most. */
const DEFAULT_MAX_SLOTS = 200;
/** Decimals assumed for a stablecoin whose mint no stored balance has shown yet (USDC's and USDT's). */
const STABLE_DECIMALS = 6;

const cu = sqlNames(cursors);
const sc = sqlNames(slotChanges, "c");
const pl = sqlNames(pools);
const plRow = sqlNames(pools, "p");
const sw = sqlNames(swaps);
const swRow = sqlNames(swaps, "s");
const tr = sqlNames(trades);
const trRow = sqlNames(trades, "t");
const sl = sqlNames(slots);
const tx = sqlNames(transactions);
const txRow = sqlNames(transactions, "t");
const tk = sqlNames(tokens);
const tp = sqlNames(tokenPrices);
const pt = sqlNames(poolTvl);

const LIVE_POINT = `select ${cu.slot}::text as slot from ${cu.$table} where ${cu.id} = '${LIVE_CURSOR}'`;
const inRange = (col: string) => `${col} > $1 and ${col} <= $2`;
const NEXT_SLOTS = `select s::text as slot from (
       select ${sc.slot} as s from ${sqlNames(slotChanges).$table} c
         where ${sc.kind} = 'pool' and ${sc.reserveA} is not null and ${inRange(sc.slot)}
       union select ${sw.slot} from ${sw.$table} where ${inRange(sw.slot)}
       union select ${tr.slot} from ${tr.$table} where ${inRange(tr.slot)}) x
     order by s limit $3`;
const CHANGES = `select ${sc.slot}::text as slot, ${sc.key} as pool, ${sc.reserveA}::text as ra, ${sc.reserveB}::text as rb
     from ${sqlNames(slotChanges).$table} c
     where ${sc.kind} = 'pool' and ${sc.reserveA} is not null and ${sc.reserveB} is not null and ${inRange(sc.slot)}
     order by ${sc.slot}, ${sc.key}`;
const POOL_META = `select ${pl.address} as address, ${pl.mintA} as mint_a, ${pl.mintB} as mint_b from ${pl.$table}
     where ${pl.address} = any($1::text[])`;
const SWAPS = `select ${swRow.slot}::text as slot, ${swRow.signature} as sig, ${swRow.instructionPath} as path, ${swRow.pool} as pool,
       ${swRow.mintIn} as mint_in, ${swRow.amountIn}::text as amount_in, ${swRow.mintOut} as mint_out, ${swRow.amountOut}::text as amount_out
     from ${sw.$table} s where ${inRange(swRow.slot)}`;
const TRADES = `select ${trRow.slot}::text as slot, ${trRow.signature} as sig, ${trRow.trader} as trader,
       ${trRow.soldMint} as sold_mint, ${trRow.soldAmount}::text as sold_amount, ${trRow.boughtMint} as bought_mint,
       ${trRow.boughtAmount}::text as bought_amount
     from ${tr.$table} t where ${inRange(trRow.slot)}`;
/** A slot's block time from its `slots` row, or (logs mode stores no such row) from one of its transactions. */
const BLOCK_TIMES = `select s::text as slot, coalesce(
       (select ${sl.blockTime} from ${sl.$table} where ${sl.slot} = s),
       (select ${txRow.blockTime} from ${tx.$table} t where ${txRow.slot} = s limit 1)) as t
     from unnest($1::int8[]) s`;
const STABLE_DECIMALS_SQL = `select ${tk.mint} as mint, ${tk.decimals} as decimals from ${tk.$table} where ${tk.mint} = any($1::text[])`;
/** Pools that may price one of $1: the other side one of the quotes $2 (SOL and the stablecoins). */
const CANDIDATES = `select ${pl.address} as address, ${pl.mintA} as mint_a, ${pl.mintB} as mint_b from ${pl.$table}
     where (${pl.mintA} = any($1::text[]) and ${pl.mintB} = any($2::text[]))
        or (${pl.mintB} = any($1::text[]) and ${pl.mintA} = any($2::text[]))
     order by ${pl.address}`;
const POOL_STATES = `select distinct on (${pt.pool}) ${pt.pool} as pool, ${pt.reserveA}::text as ra, ${pt.reserveB}::text as rb,
       ${pt.volumeA}::text as va, ${pt.volumeB}::text as vb
     from ${pt.$table} where ${pt.pool} = any($1::text[]) and ${pt.slot} <= $2 order by ${pt.pool}, ${pt.slot} desc`;
const PRICES = `select distinct on (${tp.mint}) ${tp.mint} as mint, ${tp.unitPriceUsd}::text as price
     from ${tp.$table} where ${tp.mint} = any($1::text[]) and ${tp.slot} <= $2 order by ${tp.mint}, ${tp.slot} desc`;
const CLEAR = [tp, pt].map((n) => `delete from ${n.$table} where ${n.slot} > $1 and ${n.slot} <= $2`);
const INSERT_PRICES = `insert into ${tp.$table} (${[tp.mint, tp.slot, tp.unitPriceUsd, tp.pool, tp.liquidityUsd, tp.blockTime].join(", ")})
     select * from unnest($1::text[], $2::int8[], $3::numeric[], $4::text[], $5::numeric[], $6::timestamptz[])
     on conflict (${tp.mint}, ${tp.slot}) do update set ${tp.unitPriceUsd} = excluded.${tp.unitPriceUsd},
       ${tp.pool} = excluded.${tp.pool}, ${tp.liquidityUsd} = excluded.${tp.liquidityUsd}, ${tp.blockTime} = excluded.${tp.blockTime}`;
const INSERT_TVL = `insert into ${pt.$table} (${[pt.pool, pt.slot, pt.reserveA, pt.reserveB, pt.volumeA, pt.volumeB, pt.tvlUsd, pt.blockTime].join(", ")})
     select * from unnest($1::text[], $2::int8[], $3::numeric[], $4::numeric[], $5::numeric[], $6::numeric[], $7::numeric[], $8::timestamptz[])
     on conflict (${pt.pool}, ${pt.slot}) do update set ${pt.reserveA} = excluded.${pt.reserveA},
       ${pt.reserveB} = excluded.${pt.reserveB}, ${pt.volumeA} = excluded.${pt.volumeA}, ${pt.volumeB} = excluded.${pt.volumeB}, ${pt.tvlUsd} = excluded.${pt.tvlUsd}, ${pt.blockTime} = excluded.${pt.blockTime}`;
// `is distinct from`: a slot priced again with the same values rewrites no row. The slot (in the natural key) and the
// range's bounds let Postgres read only the range's partitions, not every partition's index for every row.
const UPDATE_SWAPS = `update ${sw.$table} s set ${sw.valueUsd} = u.v
     from unnest($1::text[], $2::text[], $3::numeric[], $4::int8[]) as u(sig, path, v, slot)
     where ${swRow.signature} = u.sig and ${swRow.instructionPath} = u.path and ${swRow.slot} = u.slot
       and ${swRow.slot} between $5 and $6 and ${swRow.valueUsd} is distinct from u.v`;
const UPDATE_TRADES = `update ${tr.$table} t set ${tr.valueUsd} = u.v
     from unnest($1::text[], $2::text[], $3::numeric[], $4::int8[]) as u(sig, trader, v, slot)
     where ${trRow.signature} = u.sig and ${trRow.trader} = u.trader and ${trRow.slot} = u.slot
       and ${trRow.slot} between $5 and $6 and ${trRow.valueUsd} is distinct from u.v`;
/** The cursor before any run: nothing priced, and the change log kept from here on (see the store's pruneLimit). */
const OPEN_CURSOR = `insert into ${cu.$table} (${cu.id}, ${cu.kind}, ${cu.status}, ${cu.slot}) values ('${PRICING_CURSOR}', 'pricing', 'running', -1)
     on conflict (${cu.id}) do nothing`;
const SET_CURSOR = `insert into ${cu.$table} (${cu.id}, ${cu.kind}, ${cu.status}, ${cu.slot}) values ('${PRICING_CURSOR}', 'pricing', 'running', $1)
     on conflict (${cu.id}) do update set ${cu.slot} = excluded.${cu.slot}, ${cu.updatedAt} = now()`;

/** One run's outcome: slots priced, the cursor after it, and whether slots remain up to the target. */
export type PricingRun = { slots: number; cursor: number | null; more: boolean };

/** The pricing stage. */
export type Pricer = {
  /**
   * Prices the next slots up to `upTo` (default: the live resume point) in one transaction; `more` when it stopped
   * at `maxSlots` before the target.
   */
  advance(opts?: { upTo?: number; maxSlots?: number }): Promise<PricingRun>;
  /** Runs `advance` until nothing is left up to the target; returns the cursor. */
  catchUp(opts?: { upTo?: number; maxSlots?: number }): Promise<number | null>;
};

const usd = (v: bigint | null) => (v == null ? null : toDecimal(v, USD_SCALE));
const time = (d: Date | null) => (d == null ? null : d.toISOString());

/** Reads the batch's inputs and the state at `cursor`, runs the engine and writes its rows. */
async function priceRange(
  client: pg.PoolClient,
  cfg: { stables: string[]; floor: bigint },
  cursor: number,
  upper: number,
): Promise<number> {
  const range = [cursor, upper];
  // one client: its statements go one after another
  const changes = await client.query<{ slot: string; pool: string; ra: string; rb: string }>(CHANGES, range);
  const swapRows = await client.query<Record<string, string>>(SWAPS, range);
  const tradeRows = await client.query<Record<string, string>>(TRADES, range);
  const stableRows = await client.query<{ mint: string; decimals: number | null }>(STABLE_DECIMALS_SQL, [cfg.stables]);
  const decimals = new Map(stableRows.rows.map((r) => [r.mint, r.decimals]));
  const stables = new Map(cfg.stables.map((m) => [m, stableUnitPrice(decimals.get(m) ?? STABLE_DECIMALS)]));
  const book: PriceBook = { stables, sol: WSOL_MINT, prices: new Map() };

  const poolState = new Map<string, PoolState>();
  const blank = (mintA: string, mintB: string): PoolState => ({
    mintA,
    mintB,
    reserveA: null,
    reserveB: null,
    volumeA: null,
    volumeB: null,
  });
  const moved = [...new Set([...changes.rows.map((c) => c.pool), ...swapRows.rows.map((s) => s.pool!)])];
  const meta = await client.query<{ address: string; mint_a: string; mint_b: string }>(POOL_META, [moved]);
  for (const p of meta.rows) poolState.set(p.address, blank(p.mint_a, p.mint_b));
  const repriced = [...new Set([...poolState.values()].flatMap((p) => repricedBy(book, p)))].sort();
  const candidates = new Map<string, string[]>();
  if (repriced.length) {
    const r = await client.query<{ address: string; mint_a: string; mint_b: string }>(CANDIDATES, [
      repriced,
      [WSOL_MINT, ...cfg.stables],
    ]);
    for (const p of r.rows) {
      if (!poolState.has(p.address)) poolState.set(p.address, blank(p.mint_a, p.mint_b));
      for (const m of repricedBy(book, { mintA: p.mint_a, mintB: p.mint_b }))
        if (repriced.includes(m)) candidates.set(m, [...(candidates.get(m) ?? []), p.address]);
    }
  }
  // Every mint whose price the batch may read: the pools' sides, the swaps' and trades' sides, SOL.
  const mints = new Set<string>([WSOL_MINT]);
  for (const p of poolState.values()) mints.add(p.mintA).add(p.mintB);
  for (const s of swapRows.rows) mints.add(s.mint_in!).add(s.mint_out!);
  for (const t of tradeRows.rows) mints.add(t.sold_mint!).add(t.bought_mint!);
  const states = await client.query<{
    pool: string;
    ra: string | null;
    rb: string | null;
    va: string | null;
    vb: string | null;
  }>(POOL_STATES, [[...poolState.keys()], cursor]);
  const prices = await client.query<{ mint: string; price: string }>(PRICES, [[...mints], cursor]);
  for (const s of states.rows) {
    const p = poolState.get(s.pool)!;
    const big = (x: string | null) => (x == null ? null : BigInt(x));
    p.reserveA = big(s.ra);
    p.reserveB = big(s.rb);
    p.volumeA = big(s.va);
    p.volumeB = big(s.vb);
  }
  for (const p of prices.rows) book.prices.set(p.mint, fromDecimal(p.price, UNIT_SCALE));

  const bySlot = new Map<number, SlotInput>();
  const at = (slot: string) => {
    const n = Number(slot);
    let s = bySlot.get(n);
    if (!s) bySlot.set(n, (s = { slot: n, blockTime: null, changes: [], swaps: [], trades: [] }));
    return s;
  };
  for (const c of changes.rows)
    at(c.slot).changes.push({ pool: c.pool, reserveA: BigInt(c.ra), reserveB: BigInt(c.rb) });
  for (const s of swapRows.rows)
    at(s.slot!).swaps.push({
      signature: s.sig!,
      instructionPath: s.path!,
      pool: s.pool!,
      mintIn: s.mint_in!,
      amountIn: BigInt(s.amount_in!),
      mintOut: s.mint_out!,
      amountOut: BigInt(s.amount_out!),
    });
  for (const t of tradeRows.rows)
    at(t.slot!).trades.push({
      signature: t.sig!,
      trader: t.trader!,
      soldMint: t.sold_mint!,
      soldAmount: BigInt(t.sold_amount!),
      boughtMint: t.bought_mint!,
      boughtAmount: BigInt(t.bought_amount!),
    });
  const times = await client.query<{ slot: string; t: Date | null }>(BLOCK_TIMES, [[...bySlot.keys()]]);
  for (const r of times.rows) bySlot.get(Number(r.slot))!.blockTime = r.t;

  const ordered = [...bySlot.values()].sort((a, b) => a.slot - b.slot);
  const out = priceSlots({ book, pools: poolState, candidates, floor: cfg.floor }, ordered);

  for (const sql of CLEAR) await client.query(sql, range);
  const p = out.tokenPrices;
  if (p.length)
    await client.query(INSERT_PRICES, [
      p.map((x) => x.mint),
      p.map((x) => x.slot),
      p.map((x) => toDecimal(x.price, UNIT_SCALE)),
      p.map((x) => x.pool),
      p.map((x) => usd(x.liquidity)),
      p.map((x) => time(x.blockTime)),
    ]);
  const v = out.poolTvl;
  if (v.length)
    await client.query(INSERT_TVL, [
      v.map((x) => x.pool),
      v.map((x) => x.slot),
      v.map((x) => x.reserveA?.toString() ?? null),
      v.map((x) => x.reserveB?.toString() ?? null),
      v.map((x) => x.volumeA?.toString() ?? null),
      v.map((x) => x.volumeB?.toString() ?? null),
      v.map((x) => usd(x.tvl)),
      v.map((x) => time(x.blockTime)),
    ]);
  const w = out.swapValues;
  const bounds = (xs: { slot: number }[]) =>
    xs.reduce<[number, number]>(
      ([lo, hi], x) => [Math.min(lo, x.slot), Math.max(hi, x.slot)],
      [Number.POSITIVE_INFINITY, 0],
    );
  if (w.length)
    await client.query(UPDATE_SWAPS, [
      w.map((x) => x.signature),
      w.map((x) => x.instructionPath),
      w.map((x) => usd(x.value)),
      w.map((x) => x.slot),
      ...bounds(w),
    ]);
  const t = out.tradeValues;
  if (t.length)
    await client.query(UPDATE_TRADES, [
      t.map((x) => x.signature),
      t.map((x) => x.trader),
      t.map((x) => usd(x.value)),
      t.map((x) => x.slot),
      ...bounds(t),
    ]);
  // the rollups and wallet PnL take the range's rows once they carry their values
  await addToRollups(client, cursor, upper);
  await addToPnl(client, cursor, upper);
  return ordered.length;
}

/** Creates the pricing stage over the context's pool. */
export function createPricer(ctx: Pick<Context, "db" | "config">): Pricer {
  const pool = ctx.db.$client;
  const cfg = { stables: [...ctx.config.USD_STABLES], floor: wholeUsd(ctx.config.PRICE_MIN_LIQUIDITY_USD) };
  const rankEveryS = ctx.config.RANKINGS_MIN_INTERVAL_S;
  let opened = false;
  const pricer: Pricer = {
    async advance(opts = {}) {
      if (!opened) {
        await pool.query(OPEN_CURSOR);
        opened = true;
      }
      const client = await pool.connect();
      try {
        await client.query("begin");
        await client.query("select pg_advisory_xact_lock($1)", [PRICING_LOCK_KEY]);
        const cursor = await pricingCursor(client);
        let target = opts.upTo ?? null;
        if (target == null) {
          const r = await client.query<{ slot: string | null }>(LIVE_POINT);
          target = r.rows[0]?.slot == null ? null : Number(r.rows[0].slot);
        }
        const from = cursor ?? -1;
        if (target == null || target <= from) {
          // a catch-up whose last batch ended exactly at the target has no generation at the cursor yet
          if (cursor != null && target != null) await ensureRankings(client, cursor, cfg.stables);
          await client.query("commit");
          return { slots: 0, cursor, more: false };
        }
        const max = opts.maxSlots ?? DEFAULT_MAX_SLOTS;
        const next = await client.query<{ slot: string }>(NEXT_SLOTS, [from, target, max]);
        const more = next.rows.length === max;
        const upper = more ? Number(next.rows.at(-1)!.slot) : target;
        const n = next.rows.length ? await priceRange(client, cfg, from, upper) : 0;
        await client.query(SET_CURSOR, [upper]);
        // a ranking reads every token and pool: at most one per catch-up, and per RANKINGS_MIN_INTERVAL_S of chain
        // time while the stage is busy (the idle run after it writes the one at the cursor)
        if (!more) await writeRankingsIfDue(client, upper, cfg.stables, rankEveryS);
        await client.query("commit");
        return { slots: n, cursor: upper, more };
      } catch (err) {
        await client.query("rollback").catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    async catchUp(opts = {}) {
      for (;;) {
        const r = await pricer.advance(opts);
        if (!r.more) return r.cursor;
      }
    },
  };
  return pricer;
}

/**
 * Runs the pricing stage every `everyMs` until the context shuts down; a failed run is logged and tried again on the
 * next tick (it committed nothing).
 */
export function startPricing(
  ctx: Pick<Context, "db" | "config" | "logger" | "shutdown">,
  opts: { everyMs: number },
): { stop(): Promise<void> } {
  const log = ctx.logger.child({ stage: "pricing" });
  const pricer = createPricer(ctx);
  const stopped = new AbortController();
  const loop = (async () => {
    while (!stopped.signal.aborted && !ctx.shutdown.signal.aborted) {
      try {
        for (;;) {
          const r = await pricer.advance();
          if (r.slots) log.debug({ slots: r.slots, cursor: r.cursor }, "priced slots");
          if (!r.more || stopped.signal.aborted) break;
        }
      } catch (err) {
        log.warn({ err }, "pricing run failed; retrying");
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, opts.everyMs);
        stopped.signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
      });
    }
  })();
  return {
    async stop() {
      stopped.abort();
      await loop;
    },
  };
}
