/** Reads behind `indexerStatus` and `Slot`: slot markers and cursors. */
import type { Reader } from "../sql/reader.js";
import { sql } from "../sql/sql.js";

/** What Postgres knows about progress. */
export type StoredProgress = {
  latestSlot: number | null;
  latestBlockTime: Date | null;
  finalizedSlot: number | null;
  resumeSlot: number | null;
};

/** Progress in one statement; each part is an index lookup (slots_status_idx, cursors pk). */
export async function storedProgress(reader: Reader): Promise<StoredProgress> {
  const r = await reader.rows<StoredProgress>(sql`
    select l.slot as "latestSlot", l.block_time as "latestBlockTime",
      (select max(slot) from slots where status = 'indexed' and commitment = 'finalized') as "finalizedSlot",
      (select slot from cursors where id = 'live') as "resumeSlot"
    from (select 1) one
    left join lateral (select slot, block_time from slots where status = 'indexed' order by slot desc limit 1) l on true`);
  return r[0]!;
}

/** A backfill's progress row. */
export type BackfillRow = {
  id: string;
  status: "running" | "paused" | "done" | "failed";
  slot: number | null;
  position: string | null;
  params: unknown;
  done: number;
  total: number | null;
  error: string | null;
  createdAt: Date;
  updatedAt: Date;
};

/** Backfills not yet done (running, paused or failed), oldest first. */
export function openBackfills(reader: Reader): Promise<BackfillRow[]> {
  return reader.rows<BackfillRow>(sql`
    select id, status, slot, position, params, done, total, error, created_at as "createdAt", updated_at as "updatedAt"
    from cursors where kind = 'backfill' and status <> 'done' order by created_at, id`);
}

/** A slot marker. */
export type SlotRow = {
  slot: number;
  status: string;
  commitment: string | null;
  blockTime: Date | null;
  parentSlot: number | null;
  blockhash: string | null;
  txCount: number;
};

/** Slot markers by slot number, in one statement. */
export function slotsByNumber(reader: Reader, slots: readonly number[]): Promise<SlotRow[]> {
  return reader.rows<SlotRow>(sql`
    select slot, status, commitment, block_time as "blockTime", parent_slot as "parentSlot", blockhash, tx_count as "txCount"
    from slots where slot = any(${slots}::int8[])`);
}
