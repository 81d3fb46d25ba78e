/**
 * The slot-range partitions of the raw per-transaction tables (migration 0009): made before a batch is stored, dropped
 * by retention. The SQL lives in the migration's functions (slotline_ensure_slot_partitions,
 * slotline_drop_slot_partitions), so every writer, the migration and an operator's psql make them the same way.
 * @dev partitions are made in their own short statement, never inside a store transaction: creating one takes the
 * parent's ACCESS EXCLUSIVE lock, which inside a transaction holding rows of that parent could deadlock with another.
 */
import type pg from "pg";
import { NonRetryableError, RetryableError } from "../../core/errors.js";

/** Raised by slotline_ensure_slot_partitions for a slot below the retention floor. */
const BELOW_FLOOR = "SLR01";
/** lock_not_available: the function's lock_timeout passed behind a long query of a parent table (or a NOWAIT). */
const LOCK_TIMEOUT = "55P03";
const LOCK_NOT_AVAILABLE = LOCK_TIMEOUT;
/** The partition functions' advisory lock (migration 0009): one maker at a time. */
const PARTITIONS_LOCK_KEY = 7_462_010_002;

/**
 * The partition numbers of `$1` that every slot-partitioned table has (a number is complete only once all of them
 * hold it).
 * @dev a plain read of pg_class, not `to_regclass`: a name lookup caches its miss in the backend, and the partition
 * function, run next on the same connection after waiting for its advisory lock (which takes in no catalog
 * changes), would trust that miss and make a partition another writer has just made ("already exists").
 */
const EXISTING = `
  select n::text from unnest($1::int8[]) n
  where (select count(*) from pg_class c join pg_namespace s on s.oid = c.relnamespace
         where s.nspname = 'slot_partitions'
           and c.relname = any(select t || '_p' || lpad(n::text, 6, '0') from unnest(slotline_slot_partitioned_tables()) t))
      = cardinality(slotline_slot_partitioned_tables())`;
/** duplicate_table: a partition made by another writer between the function's look and its create. */
const DUPLICATE_TABLE = "42P07";

/** A slot the store refuses: its partition was dropped by retention. */
export class BelowRetentionError extends NonRetryableError {
  override name = "BelowRetentionError";
}

/** Makes sure partitions exist for the slots a writer is about to store. */
export type PartitionKeeper = {
  /**
   * Makes the partitions of `slots` and the partition after each; cached per process (a partition dropped by
   * retention later makes a write there fail, as the slot is below the floor anyway).
   */
  ensure(slots: number[]): Promise<void>;
  /**
   * Makes the partition of `slot` and the `ahead` partitions after it; returns the first slot past the last of them
   * (the headroom's end).
   */
  ahead(slot: number, ahead: number): Promise<number>;
  /** Drops every partition wholly below `horizon`; returns how many tables' partitions went. */
  dropBelow(horizon: number): Promise<number>;
};

/** The partition keeper over `pool`. */
export function createPartitionKeeper(pool: pg.Pool): PartitionKeeper {
  let width: number | undefined;
  const widthOf = async () =>
    (width ??= Number((await pool.query<{ w: string }>("select slotline_partition_width()::text as w")).rows[0]!.w));
  // partition numbers known to exist together with the one after them
  const known = new Set<number>();
  async function make(numbers: number[], w: number) {
    const missing = numbers.filter((n) => !known.has(n));
    if (missing.length === 0) return;
    // Made ahead (the ingest leader's upkeep), they exist already: a catalog read, without queueing on the
    // function's advisory lock behind a maker that waits for a busy parent.
    const have = await pool.query<{ n: string }>(EXISTING, [missing.flatMap((n) => [n, n + 1])]);
    const existing = new Set(have.rows.map((r) => Number(r.n)));
    const toMake = missing.filter((n) => !existing.has(n) || !existing.has(n + 1));
    try {
      if (toMake.length)
        await pool.query("select slotline_ensure_slot_partitions($1::int8[])", [toMake.map((n) => n * w)]);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === BELOW_FLOOR) throw new BelowRetentionError((err as Error).message);
      if (code === LOCK_TIMEOUT) throw new RetryableError("partition not made yet: its table is busy", { cause: err });
      if (code === DUPLICATE_TABLE)
        throw new RetryableError("partition made by another writer meanwhile", { cause: err });
      throw err;
    }
    for (const n of missing) known.add(n);
  }
  /**
   * Makes the partitions `numbers` without ever waiting in a lock queue: the partition function's advisory lock and
   * every parent's lock are asked for without waiting (a waiting ACCESS EXCLUSIVE request would hold every writer
   * of that table behind it), and a busy table is a RetryableError, tried again later. Then the function finds the
   * locks held and makes the partitions at once.
   */
  async function makeWithoutWaiting(numbers: number[], w: number) {
    const client = await pool.connect();
    try {
      await client.query("begin");
      const got = await client.query<{ ok: boolean }>("select pg_try_advisory_xact_lock($1) as ok", [
        PARTITIONS_LOCK_KEY,
      ]);
      if (!got.rows[0]!.ok) throw new RetryableError("partitions not made yet: another writer is making some");
      const tables = await client.query<{ t: string }>("select unnest(slotline_slot_partitioned_tables()) as t");
      for (const { t } of tables.rows)
        await client.query(`lock table only public.${t} in access exclusive mode nowait`);
      await client.query("select slotline_ensure_slot_partitions($1::int8[])", [numbers.map((n) => n * w)]);
      await client.query("commit");
    } catch (err) {
      await client.query("rollback").catch(() => {});
      const code = (err as { code?: string }).code;
      if (code === BELOW_FLOOR) throw new BelowRetentionError((err as Error).message);
      if (code === LOCK_NOT_AVAILABLE)
        throw new RetryableError("partitions not made yet: a table is busy", { cause: err });
      throw err;
    } finally {
      client.release();
    }
  }
  return {
    async ensure(slots) {
      if (slots.length === 0) return;
      const w = await widthOf();
      await make([...new Set(slots.map((s) => Math.floor(s / w)))], w);
    },
    async ahead(slot, ahead) {
      const w = await widthOf();
      const first = Math.floor(slot / w);
      const numbers = Array.from({ length: Math.max(1, ahead) + 1 }, (_, i) => first + i);
      const have = await pool.query<{ n: string }>(EXISTING, [numbers]);
      const existing = new Set(have.rows.map((r) => Number(r.n)));
      if (numbers.some((n) => !existing.has(n))) await makeWithoutWaiting(numbers, w);
      for (const n of numbers.slice(0, -1)) known.add(n);
      return (first + Math.max(1, ahead) + 1) * w;
    },
    async dropBelow(horizon) {
      const r = await pool.query<{ n: number }>("select slotline_drop_slot_partitions($1::int8) as n", [horizon]);
      known.clear();
      return r.rows[0]!.n;
    },
  };
}
