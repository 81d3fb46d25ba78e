/**
 * What the store does for the pricing stage (indexer/pricing), which prices slots in chain order behind the live
 * resume point: its cursor's id and lock, and the rewind that a rolled-back or newly stored slot at or below that
 * cursor calls for, in the transaction that changes the slot.
 */
import type pg from "pg";
import { cursors, poolTvl, slots, tokenPrices, walletPnl } from "../../schema/index.js";
import { sqlNames } from "./columns.js";
import { dropRankingsFrom } from "./rankings.js";
import { rewindRollups } from "./rollups.js";

/** The pricing stage's cursor id in `cursors`: every slot at or below its slot is priced. */
export const PRICING_CURSOR = "pricing";
/** The advisory lock a pricing run holds until commit, and a transaction that rewinds it takes first. */
export const PRICING_LOCK_KEY = 7_462_010_004;

const cu = sqlNames(cursors);
const sl = sqlNames(slots);
const tp = sqlNames(tokenPrices);
const pt = sqlNames(poolTvl);

const READ_CURSOR = `select ${cu.slot}::text as slot from ${cu.$table} where ${cu.id} = '${PRICING_CURSOR}'`;
const REWIND_CURSOR = `update ${cu.$table} set ${cu.slot} = least(${cu.slot}, $1::int8 - 1), ${cu.updatedAt} = now()
     where ${cu.id} = '${PRICING_CURSOR}'`;
const DELETE_FROM = [tokenPrices, poolTvl, walletPnl].map((t) => {
  const n = sqlNames(t);
  return `delete from ${n.$table} where ${n.slot} >= $1`;
});
/** The lowest of these slots not stored yet, when the pricing cursor is at or above it. */
const FIRST_NEW_BELOW = `select min(s)::text as s from unnest($1::int8[]) s
     where not exists (select 1 from ${sl.$table} where ${sl.slot} = s and ${sl.status} = 'indexed')
     having min(s) <= (select ${cu.slot} from ${cu.$table} where ${cu.id} = '${PRICING_CURSOR}')`;

/** The pricing cursor, or null before the stage's first run. */
export async function pricingCursor(client: pg.PoolClient | pg.Pool): Promise<number | null> {
  const r = await client.query<{ slot: string | null }>(READ_CURSOR);
  return r.rows[0]?.slot == null ? null : Number(r.rows[0].slot);
}

/**
 * Drops what the pricing stage wrote at or above `slot` (prices, TVL and wallet PnL rows; its rollups: recomputed from
 * the slots below; its rankings from there on) and moves its cursor below it, so the stage prices those slots again
 * from the data as it now is. The caller holds the pricing lock (exclusive, or shared by writers).
 */
export async function rewindPricing(client: pg.PoolClient, slot: number): Promise<void> {
  for (const sql of DELETE_FROM) await client.query(sql, [slot]);
  await rewindRollups(client, slot);
  await dropRankingsFrom(client, slot);
  await client.query(REWIND_CURSOR, [slot]);
}

/** Takes the pricing lock until commit: exclusive (a pricing run, a rollback) or shared (writers below the cursor). */
export async function lockPricing(client: pg.PoolClient, mode: "exclusive" | "shared"): Promise<void> {
  const fn = mode === "shared" ? "pg_advisory_xact_lock_shared" : "pg_advisory_xact_lock";
  await client.query(`select ${fn}($1)`, [PRICING_LOCK_KEY]);
}

const LIVE_AT_OR_ABOVE = `select exists (select 1 from ${cu.$table} where ${cu.id} = 'live' and ${cu.slot} >= $1) as below`;

/**
 * Before a batch writes any row: when its lowest slot is at or below the live resume point (a backfill, or a slot
 * delivered again), the pricing stage may already have passed it, so the batch takes the pricing lock (shared: such
 * batches do not wait for each other) and a pricing run cannot read the range while the batch is uncommitted. Live
 * slots above the resume point need no lock: no pricing run reaches them before they are stored.
 * @dev the pricing lock is always taken before the shared-rows lock, by every transaction that takes both.
 */
export async function guardPricing(client: pg.PoolClient, slotNumbers: number[]): Promise<void> {
  if (slotNumbers.length === 0) return;
  const r = await client.query<{ below: boolean }>(LIVE_AT_OR_ABOVE, [Math.min(...slotNumbers)]);
  if (r.rows[0]?.below) await lockPricing(client, "shared");
}

/**
 * Rewinds the pricing stage below the first of `slotNumbers` that is stored for the first time at or below its
 * cursor (a backfill below it); nothing when there is none (the usual case: live slots are above it). Runs after
 * guardPricing in the same transaction.
 */
export async function rewindForNewSlots(client: pg.PoolClient, slotNumbers: number[]): Promise<void> {
  if (slotNumbers.length === 0) return;
  const r = await client.query<{ s: string | null }>(FIRST_NEW_BELOW, [slotNumbers]);
  const first = r.rows[0]?.s;
  if (first != null) await rewindPricing(client, Number(first));
}

const FIRST_BELOW = `select min(s)::text as s from unnest($1::int8[]) s
     having min(s) <= (select ${cu.slot} from ${cu.$table} where ${cu.id} = '${PRICING_CURSOR}')`;

/**
 * Logs mode's rewindForNewSlots: its slots have no `slots` row to tell a first store from a repeat, so any batch at
 * or below the pricing cursor rewinds it (a repeat is rare there: the ingest enqueues only unstored signatures).
 */
export async function rewindBelowCursor(client: pg.PoolClient, slotNumbers: number[]): Promise<void> {
  if (slotNumbers.length === 0) return;
  const r = await client.query<{ s: string | null }>(FIRST_BELOW, [slotNumbers]);
  const first = r.rows[0]?.s;
  if (first != null) await rewindPricing(client, Number(first));
}

/** The slot up to which finalized change-log rows may be pruned: the pricing stage still reads those above it. */
export async function pruneLimit(client: pg.PoolClient, upToSlot: number): Promise<number> {
  const priced = await pricingCursor(client);
  return priced == null ? upToSlot : Math.min(upToSlot, priced);
}
