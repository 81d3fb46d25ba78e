/**
 * What the store does for the pricing stage (indexer/pricing), which prices slots in chain order behind the live
 * resume point: its cursor's id and lock, and the rewind that a rolled-back or newly stored slot at or below that
 * cursor calls for, in the transaction that changes the slot.
 */
import type pg from "pg";
import { cursors, poolTvl, slots, tokenPrices } from "../../schema/index.js";
import { sqlNames } from "./columns.js";

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
const DELETE_FROM = [tokenPrices, poolTvl].map((t) => {
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
 * Takes the pricing lock, then drops what the stage wrote at or above `slot` and moves its cursor below it, so the
 * stage prices those slots again from the data as it now is.
 */
export async function rewindPricing(client: pg.PoolClient, slot: number): Promise<void> {
  await client.query("select pg_advisory_xact_lock($1)", [PRICING_LOCK_KEY]);
  for (const sql of DELETE_FROM) await client.query(sql, [slot]);
  await client.query(REWIND_CURSOR, [slot]);
}

/**
 * Rewinds the pricing stage below the first of `slotNumbers` that is stored for the first time at or below its
 * cursor (a backfill below it); nothing when there is none (the usual case: live slots are above it).
 */
export async function rewindForNewSlots(client: pg.PoolClient, slotNumbers: number[]): Promise<void> {
  if (slotNumbers.length === 0) return;
  const r = await client.query<{ s: string | null }>(FIRST_NEW_BELOW, [slotNumbers]);
  const first = r.rows[0]?.s;
  if (first != null) await rewindPricing(client, Number(first));
}

/** The slot up to which finalized change-log rows may be pruned: the pricing stage still reads those above it. */
export async function pruneLimit(client: pg.PoolClient, upToSlot: number): Promise<number> {
  const priced = await pricingCursor(client);
  return priced == null ? upToSlot : Math.min(upToSlot, priced);
}
