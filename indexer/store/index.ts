/**
 * Stage 4: decoded blocks -> Postgres. One Postgres transaction per batch holds every row and the slots'
 * `slots` rows, so a slot is either wholly stored or not at all; the live resume point is derived from them.
 */
import type pg from "pg";
import type { Context } from "../../core/context.js";
import type { DecodedBlock, DecodedTransaction } from "../../core/decoded.js";
import { failpoint } from "../../core/failpoints.js";
import { SHARED_ROWS_LOCK_KEY, type WriteCounts, recomputeCandles, writeRows } from "./write-sql.js";

export type { WriteCounts } from "./write-sql.js";
/**
 * The advisory lock every store transaction that writes shared rows (tokens, pools, pool_candles) holds until commit.
 */
export { SHARED_ROWS_LOCK_KEY } from "./write-sql.js";
export { cleanText, jsonbText } from "./strings.js";

/** The live ingest cursor's id in `cursors`. */
export const LIVE_CURSOR = "live";

/** Data tables whose rows belong to a slot (rolled back with it). */
const SLOT_TABLES = ["transactions", "token_transfers", "swaps", "liquidity_events", "program_events"] as const;

/** The store. */
export type Store = {
  /** Writes blocks (rows + `slots` rows as indexed) and skipped slots in one transaction. */
  writeBlocks(
    blocks: DecodedBlock[],
    opts: { commitment: "confirmed" | "finalized"; skipped?: number[] },
  ): Promise<WriteCounts>;
  /**
   * Writes transactions fetched one by one (logs mode) in one transaction; no `slots` rows, since their blocks
   * were not read whole.
   */
  writeTransactions(txs: DecodedTransaction[], passed?: { signature: string; slot: number }[]): Promise<WriteCounts>;
  /** Of `signatures`, those neither stored nor known to invoke no tracked program. */
  unstoredSignatures(signatures: string[]): Promise<string[]>;
  /** Records slots that produced no block (getBlocks left them out, or -32007/-32009). */
  markSkipped(slots: number[], commitment: "confirmed" | "finalized"): Promise<void>;
  /** Deletes every row of these slots and marks them rolled_back, in one transaction. */
  rollbackSlots(slots: number[]): Promise<number>;
  /**
   * Marks stored confirmed slots at or below `slot` as finalized and prunes the change log of what they touched
   * (see pruneChanges); returns the number of change-log rows pruned.
   */
  markFinalized(upToSlot: number): Promise<number>;
  /** Indexed slots in [from, to] stored as finalized (the deep-reorg check compares them with the chain). */
  finalizedBetween(from: number, to: number): Promise<number[]>;
  /** The live resume point: every produced slot at or below it is stored (null before the first run). */
  liveResumePoint(): Promise<number | null>;
  /** Creates the live cursor at `slot` if absent (the slot before the first to index). */
  initLiveCursor(slot: number): Promise<number>;
  /** Records produced slots as pending (before their jobs are enqueued); a slot already done stays done. */
  markPending(slots: number[]): Promise<void>;
  /**
   * Advances the live cursor to just below the lowest pending slot above it, or to `scanned` (every produced
   * slot up to it has a row) when none is pending; never moves it back. Returns the new point.
   */
  advanceLiveCursor(scanned: number): Promise<number | null>;
  /** Pending slots above `from`, lowest first (for re-enqueueing work Redis lost). */
  pendingSlots(from: number, limit: number): Promise<number[]>;
  /** Of `slots`, those not yet indexed, skipped or rolled back. */
  notDone(slots: number[]): Promise<number[]>;
  /** Lowest indexed slot still at confirmed (the finality tracker starts there after a restart). */
  lowestUnfinalized(): Promise<number | null>;
  /** `slots` rows in [from, to]. */
  slotsBetween(from: number, to: number): Promise<{ slot: number; status: string }[]>;
  /** Deletes `slots` rows that are not indexed, so those slots count as missing and are indexed again. */
  forgetSlots(slots: number[]): Promise<void>;
};

/** Slot states the resume point may pass: the slot's fate on the chain is known and stored. */
const DONE = "('indexed', 'skipped', 'rolled_back')";

async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    const out = await fn(client);
    await client.query("commit");
    return out;
  } catch (err) {
    await client.query("rollback").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** Recomputes tokens and pools touched by rolled-back slots from the change log that remains. */
async function recomputeAfterRollback(client: pg.PoolClient, slots: number[], tokenKeys: string[], poolKeys: string[]) {
  await client.query(
    `update tokens t set
       first_seen_slot = case when t.first_seen_slot = any($1::int8[]) then a.first_slot else t.first_seen_slot end,
       updated_slot = case when t.updated_slot = any($1::int8[]) then a.last_slot else t.updated_slot end
     from (select key, min(slot) as first_slot, max(slot) as last_slot from slot_changes where kind = 'token' and key = any($2::text[]) group by key) a
     where a.key = t.mint`,
    [slots, tokenKeys],
  );
  // A token or pool seen only in dropped slots never existed on the canonical chain.
  await client.query(
    `delete from tokens t where t.mint = any($1::text[]) and not exists (select 1 from slot_changes c where c.kind = 'token' and c.key = t.mint)`,
    [tokenKeys],
  );
  await client.query(
    `update pools p set
       first_seen_slot = case when p.first_seen_slot = any($1::int8[]) then a.first_slot else p.first_seen_slot end,
       last_swap_slot = case when p.last_swap_slot = any($1::int8[]) then a.last_swap else p.last_swap_slot end,
       created_slot = case when p.created_slot = any($1::int8[]) then null else p.created_slot end,
       created_signature = case when p.created_slot = any($1::int8[]) then null else p.created_signature end,
       reserve_a = case when p.reserves_slot = any($1::int8[]) then r.reserve_a else p.reserve_a end,
       reserve_b = case when p.reserves_slot = any($1::int8[]) then r.reserve_b else p.reserve_b end,
       reserves_slot = case when p.reserves_slot = any($1::int8[]) then r.slot else p.reserves_slot end
     from (select key, min(slot) as first_slot, max(slot) filter (where swapped) as last_swap from slot_changes where kind = 'pool' and key = any($2::text[]) group by key) a
     left join lateral (select slot, reserve_a, reserve_b from slot_changes c where c.kind = 'pool' and c.key = a.key and c.reserve_a is not null
                        order by slot desc, tx_index desc limit 1) r on true
     where a.key = p.address`,
    [slots, poolKeys],
  );
  await client.query(
    `delete from pools p where p.address = any($1::text[]) and not exists (select 1 from slot_changes c where c.kind = 'pool' and c.key = p.address)`,
    [poolKeys],
  );
}

/**
 * Prunes the change log below finality. For each token or pool the newly finalized slots touched, of its rows at or
 * below `upToSlot` only those a later rollback can need are kept: the first and last slot, the last swap and the
 * last reserves (what recomputeAfterRollback reads). Every other finalized row goes, so the log holds at most four
 * rows per key below finality plus the unfinalized window.
 * @dev slots at or below a finalized slot are never rolled back (a deeper fork halts ingest: deep_reorg), so the
 * min/max/latest over the kept rows and the unfinalized ones equal those over the full log.
 */
async function pruneChanges(client: pg.PoolClient, upToSlot: number, newlyFinalized: number[]): Promise<number> {
  const r = await client.query(
    `delete from slot_changes c using (
       select slot, kind, key,
              row_number() over (partition by kind, key order by slot) as r_first,
              row_number() over (partition by kind, key order by slot desc) as r_last,
              row_number() over (partition by kind, key order by swapped desc, slot desc) as r_swap,
              row_number() over (partition by kind, key order by (reserve_a is not null) desc, slot desc, tx_index desc) as r_res
       from slot_changes
       where slot <= $1 and (kind, key) in (select kind, key from slot_changes where slot = any($2::int8[]))
     ) r
     where c.slot = r.slot and c.kind = r.kind and c.key = r.key and r.r_first > 1 and r.r_last > 1 and r.r_swap > 1 and r.r_res > 1`,
    [upToSlot, newlyFinalized],
  );
  return r.rowCount ?? 0;
}

async function upsertSkipped(client: pg.PoolClient | pg.Pool, slots: number[], commitment: string) {
  if (slots.length === 0) return;
  // A slot already indexed stays indexed: only the finality tracker may undo it (a fork switch).
  await client.query(
    `insert into slots (slot, status, commitment, tx_count) select s, 'skipped', $2, 0 from unnest($1::int8[]) s
     on conflict (slot) do update set status = 'skipped', commitment = excluded.commitment, indexed_at = now()
     where slots.status <> 'indexed'`,
    [slots, commitment],
  );
}

/** Creates the store over the context's pool. */
export function createStore(ctx: Pick<Context, "db">): Store {
  const pool = ctx.db.$client;
  return {
    async writeBlocks(blocks, opts) {
      const out = await inTransaction(pool, async (client) => {
        const counts = await writeRows(client, blocks);
        await failpoint("slot.afterRows");
        if (blocks.length)
          await client.query(
            `insert into slots (slot, status, commitment, block_time, parent_slot, blockhash, tx_count)
             select s, 'indexed', $2, bt, p, h, n from unnest($1::int8[], $3::timestamptz[], $4::int8[], $5::text[], $6::int4[]) as u(s, bt, p, h, n)
             on conflict (slot) do update set status = 'indexed', block_time = excluded.block_time,
               commitment = case when slots.status = 'indexed' and slots.commitment = 'finalized' then 'finalized' else excluded.commitment end,
               parent_slot = excluded.parent_slot, blockhash = excluded.blockhash, tx_count = excluded.tx_count, indexed_at = now()`,
            [
              blocks.map((b) => b.slot),
              opts.commitment,
              blocks.map((b) => (b.blockTime == null ? null : new Date(b.blockTime * 1000).toISOString())),
              blocks.map((b) => b.parentSlot),
              blocks.map((b) => b.blockhash),
              blocks.map((b) => b.txCount),
            ],
          );
        await upsertSkipped(client, opts.skipped ?? [], opts.commitment);
        await failpoint("slot.afterCheckpointBeforeCommit");
        return counts;
      });
      await failpoint("slot.afterCommitBeforeAck");
      return out;
    },
    async writeTransactions(txs, passed = []) {
      // Group by slot, in slot order, so merges (reserves, first/last seen) follow chain order as for blocks.
      const bySlot = new Map<number, DecodedTransaction[]>();
      for (const t of txs) bySlot.set(t.transaction.slot, [...(bySlot.get(t.transaction.slot) ?? []), t]);
      const blocks: DecodedBlock[] = [...bySlot.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([slot, list]) => ({
          slot,
          parentSlot: 0,
          blockhash: "",
          blockTime: null,
          txCount: list.length,
          transactions: list,
        }));
      return inTransaction(pool, async (client) => {
        const counts = await writeRows(client, blocks);
        if (passed.length)
          await client.query(
            `insert into passed_signatures (signature, slot) select * from unnest($1::text[], $2::int8[]) on conflict (signature) do nothing`,
            [passed.map((p) => p.signature), passed.map((p) => p.slot)],
          );
        return counts;
      });
    },
    async unstoredSignatures(signatures) {
      if (signatures.length === 0) return [];
      const r = await pool.query<{ s: string }>(
        `select s from unnest($1::text[]) s where not exists (select 1 from transactions t where t.signature = s)
           and not exists (select 1 from passed_signatures p where p.signature = s)`,
        [signatures],
      );
      return r.rows.map((x) => x.s);
    },
    async markSkipped(slots, commitment) {
      await upsertSkipped(pool, slots, commitment);
    },
    async rollbackSlots(slots) {
      if (slots.length === 0) return 0;
      return inTransaction(pool, async (client) => {
        // tokens, pools and pool_candles are recomputed below: the same lock as a store transaction's (see writeRows)
        await client.query("select pg_advisory_xact_lock($1)", [SHARED_ROWS_LOCK_KEY]);
        for (const t of SLOT_TABLES)
          if (t !== "swaps") await client.query(`delete from ${t} where slot = any($1::int8[])`, [slots]);
        // The dropped swaps' (pool, minute) candles, read as the swaps go.
        const minutes = await client.query<{ pool: string; t: string }>(
          `with d as (delete from swaps where slot = any($1::int8[]) returning pool, block_time)
           select distinct pool, date_bin('1 minute', block_time, 'epoch'::timestamptz)::text as t from d where block_time is not null`,
          [slots],
        );
        await failpoint("rollback.afterDeletes");
        // tokens and pools: recompute what the dropped slots contributed from the change log of the slots that remain.
        const gone = await client.query<{ kind: string; key: string }>(
          `delete from slot_changes where slot = any($1::int8[]) returning kind, key`,
          [slots],
        );
        const keys = (kind: string) => [...new Set(gone.rows.filter((g) => g.kind === kind).map((g) => g.key))];
        await recomputeAfterRollback(client, slots, keys("token"), keys("pool"));
        // Each of those minutes is rewritten from the swaps that remain (and pools, for mint_a), or deleted when none
        // remain.
        await recomputeCandles(
          client,
          minutes.rows.map((m) => m.pool),
          minutes.rows.map((m) => m.t),
        );
        const r = await client.query(
          `update slots set status = 'rolled_back', indexed_at = now() where slot = any($1::int8[])`,
          [slots],
        );
        // The resume point must not stay above a slot that has to be indexed again.
        await client.query(`update cursors set slot = least(slot, $1::int8 - 1), updated_at = now() where id = $2`, [
          Math.min(...slots),
          LIVE_CURSOR,
        ]);
        return r.rowCount ?? 0;
      });
    },
    async markFinalized(upToSlot) {
      return inTransaction(pool, async (client) => {
        const fin = await client.query<{ slot: string }>(
          `update slots set commitment = 'finalized' where slot <= $1 and commitment = 'confirmed' and status <> 'rolled_back' returning slot::text`,
          [upToSlot],
        );
        return fin.rowCount
          ? pruneChanges(
              client,
              upToSlot,
              fin.rows.map((r) => Number(r.slot)),
            )
          : 0;
      });
    },
    async finalizedBetween(from, to) {
      const r = await pool.query<{ s: string }>(
        `select slot::text as s from slots where slot between $1 and $2 and status = 'indexed' and commitment = 'finalized' order by slot`,
        [from, to],
      );
      return r.rows.map((x) => Number(x.s));
    },
    async liveResumePoint() {
      const r = await pool.query<{ slot: string | null }>(`select slot::text from cursors where id = $1`, [
        LIVE_CURSOR,
      ]);
      return r.rows[0]?.slot == null ? null : Number(r.rows[0].slot);
    },
    async initLiveCursor(slot) {
      await pool.query(
        `insert into cursors (id, kind, status, slot) values ($1, 'live', 'running', $2) on conflict (id) do nothing`,
        [LIVE_CURSOR, slot],
      );
      return (await this.liveResumePoint()) ?? slot;
    },
    async markPending(slots) {
      if (slots.length === 0) return;
      await pool.query(
        `insert into slots (slot, status, tx_count) select s, 'pending', 0 from unnest($1::int8[]) s
         on conflict (slot) do update set status = 'pending', indexed_at = now() where slots.status = 'rolled_back'`,
        [slots],
      );
    },
    async advanceLiveCursor(scanned) {
      const r = await pool.query<{ slot: string | null }>(
        `update cursors c set slot = greatest(c.slot, least($2::int8,
             coalesce((select min(s.slot) - 1 from slots s where s.slot > c.slot and s.status = 'pending'), $2::int8))),
           updated_at = now()
         where id = $1 returning slot::text`,
        [LIVE_CURSOR, scanned],
      );
      return r.rows[0]?.slot == null ? null : Number(r.rows[0].slot);
    },
    async pendingSlots(from, limit) {
      const r = await pool.query<{ s: string }>(
        `select slot::text as s from slots where slot > $1 and status = 'pending' order by slot limit $2`,
        [from, limit],
      );
      return r.rows.map((x) => Number(x.s));
    },
    async notDone(slots) {
      if (slots.length === 0) return [];
      const r = await pool.query<{ s: string }>(
        `select s::text from unnest($1::int8[]) s where not exists (select 1 from slots where slot = s and status in ${DONE})`,
        [slots],
      );
      return r.rows.map((x) => Number(x.s));
    },
    async lowestUnfinalized() {
      const r = await pool.query<{ s: string | null }>(
        `select min(slot)::text as s from slots where status = 'indexed' and commitment = 'confirmed'`,
      );
      return r.rows[0]?.s == null ? null : Number(r.rows[0].s);
    },
    async slotsBetween(from, to) {
      const r = await pool.query<{ slot: string; status: string }>(
        `select slot::text, status from slots where slot between $1 and $2 order by slot`,
        [from, to],
      );
      return r.rows.map((x) => ({ slot: Number(x.slot), status: x.status }));
    },
    async forgetSlots(slots) {
      if (slots.length)
        await pool.query(`delete from slots where slot = any($1::int8[]) and status <> 'indexed'`, [slots]);
    },
  };
}
