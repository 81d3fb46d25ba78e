/** Reads behind `indexerStatus` and `Slot`: slot markers and cursors. */
import { cursors, slots } from "../../schema/index.js";
import { type Reader, raw, selectAll, sql } from "../sql/index.js";
import { type RecordOf, columnsOf, fromOf } from "./common.js";

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

/** A backfill's progress (a cursor of kind backfill). */
export type BackfillRecord = Omit<RecordOf<typeof cursors>, "kind">;

const BACKFILL_SELECT = selectAll(columnsOf(cursors, ["kind"]));

/** Backfills not yet done (running, paused or failed), oldest first. */
export function openBackfills(reader: Reader): Promise<BackfillRecord[]> {
  return reader.rows<BackfillRecord>(sql`
    select ${raw(BACKFILL_SELECT)}
    from ${raw(fromOf(cursors))} where t.kind = 'backfill' and t.status <> 'done' order by t.created_at, t.id`);
}

/** A slot marker (not when it was stored, which the API does not serve). */
export type SlotRecord = Omit<RecordOf<typeof slots>, "indexedAt">;

const SLOT_SELECT = selectAll(columnsOf(slots, ["indexedAt"]));

/** Slot markers by slot number, in one statement. */
export function slotsByNumber(reader: Reader, numbers: readonly number[]): Promise<SlotRecord[]> {
  return reader.rows<SlotRecord>(
    sql`select ${raw(SLOT_SELECT)} from ${raw(fromOf(slots))} where t.slot = any(${numbers}::int8[])`,
  );
}
