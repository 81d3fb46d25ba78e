/**
 * The store's operational writes, beside the chain data: dead letters, the progress cursors of backfills and of logs
 * mode's sweeps, and the token enricher's lookups. Names come from schema/ like every other statement of the store.
 */
import type pg from "pg";
import { cursors, deadLetters, tokens } from "../../schema/index.js";
import { sqlNames } from "./columns.js";

const dl = sqlNames(deadLetters);
const cu = sqlNames(cursors);
const tk = sqlNames(tokens);

const RECORD_DEAD_LETTER = `insert into ${dl.$table} (${dl.queue}, ${dl.jobId}, ${dl.jobName}, ${dl.payload}, ${dl.error}, ${dl.attempts})
  values ($1, $2, $3, $4, $5, $6)
  on conflict (${dl.queue}, ${dl.jobId}) do update set ${dl.error} = excluded.${dl.error}, ${dl.attempts} = excluded.${dl.attempts},
    ${dl.createdAt} = now(), ${dl.retriedAt} = null`;
const CLEAR_DEAD_LETTER = `delete from ${dl.$table} where ${dl.queue} = $1 and ${dl.jobId} = $2`;
const MARK_RETRIED = `update ${dl.$table} set ${dl.retriedAt} = now() where ${dl.id} = any($1::int[])`;

const OPEN_BACKFILL = `insert into ${cu.$table} (${cu.id}, ${cu.kind}, ${cu.status}, ${cu.slot}, ${cu.position}, ${cu.params}, ${cu.total})
  values ($1, 'backfill', 'running', $2, $3, $4, $5)
  on conflict (${cu.id}) do update set ${cu.status} = case when ${cu.$table}.${cu.status} = 'done' then 'done' else 'running' end,
    ${cu.updatedAt} = now()
  returning ${cu.slot}::text as slot, ${cu.position} as position, ${cu.done}::text as done, ${cu.total}::text as total, ${cu.status} as status`;
const BACKFILL_SLOT = `update ${cu.$table} set ${cu.slot} = $2, ${cu.done} = $3, ${cu.updatedAt} = now() where ${cu.id} = $1`;
const BACKFILL_POSITION = `update ${cu.$table} set ${cu.position} = $2, ${cu.done} = $3, ${cu.updatedAt} = now() where ${cu.id} = $1`;
const CURSOR_STATUS = `update ${cu.$table} set ${cu.status} = $2, ${cu.updatedAt} = now() where ${cu.id} = $1`;
const READ_POSITION = `select ${cu.position} as position from ${cu.$table} where ${cu.id} = $1`;
const SET_POSITION = `insert into ${cu.$table} (${cu.id}, ${cu.kind}, ${cu.status}, ${cu.position}) values ($1, 'live', 'running', $2)
  on conflict (${cu.id}) do update set ${cu.position} = excluded.${cu.position}, ${cu.updatedAt} = now()`;

const FILL_TOKEN = `update ${tk.$table} set ${tk.supply} = $2, ${tk.decimals} = coalesce(${tk.decimals}, $3),
    ${tk.mintAuthority} = $4, ${tk.freezeAuthority} = $5, ${tk.name} = coalesce($6, ${tk.name}),
    ${tk.symbol} = coalesce($7, ${tk.symbol}), ${tk.uri} = coalesce($8, ${tk.uri})
  where ${tk.mint} = $1`;

/** A job that failed for good, as the worker records it. */
export type DeadLetterRecord = {
  queue: string;
  jobId: string;
  jobName: string;
  payload: unknown;
  error: string;
  attempts: number;
};

/** A backfill's cursor as opened: where it resumes and how far it got. */
export type BackfillCursor = {
  slot: string | null;
  position: string | null;
  done: string;
  total: string | null;
  status: string;
};

/** What the enricher read of a mint and its metadata account. */
export type TokenLookup = {
  supply: bigint;
  decimals: number;
  mintAuthority: string | null;
  freezeAuthority: string | null;
  name: string | null;
  symbol: string | null;
  uri: string | null;
};

/** The operational writes over `pool`. */
export function createOperations(pool: pg.Pool) {
  return {
    /** Records (or refreshes) a dead letter; a replayed one that fails again is shown as not retried. */
    async recordDeadLetter(d: DeadLetterRecord): Promise<void> {
      await pool.query(RECORD_DEAD_LETTER, [
        d.queue,
        d.jobId,
        d.jobName,
        JSON.stringify(d.payload),
        d.error.slice(0, 2000),
        d.attempts,
      ]);
    },
    /** Forgets the dead letter of a job that succeeded after all. */
    async clearDeadLetter(queue: string, jobId: string): Promise<void> {
      await pool.query(CLEAR_DEAD_LETTER, [queue, jobId]);
    },
    /** Marks dead letters as re-enqueued. */
    async markDeadLettersRetried(ids: number[]): Promise<void> {
      await pool.query(MARK_RETRIED, [ids]);
    },
    /** Creates a backfill's cursor, or resumes it (a done one stays done); returns where it stands. */
    async openBackfill(
      id: string,
      start: { slot: number | null; position: string | null; params: unknown; total: number | null },
    ): Promise<BackfillCursor> {
      const r = await pool.query<BackfillCursor>(OPEN_BACKFILL, [
        id,
        start.slot,
        start.position,
        JSON.stringify(start.params),
        start.total,
      ]);
      return r.rows[0]!;
    },
    /** A slot backfill's new resume slot and its progress count, in one statement. */
    async backfillReachedSlot(id: string, slot: number, done: number): Promise<void> {
      await pool.query(BACKFILL_SLOT, [id, slot, done]);
    },
    /** An address backfill's new resume signature and its progress count, in one statement. */
    async backfillReachedPosition(id: string, position: string | null, done: number): Promise<void> {
      await pool.query(BACKFILL_POSITION, [id, position, done]);
    },
    /** Sets a cursor's status. */
    async setCursorStatus(id: string, status: "running" | "paused" | "done" | "failed"): Promise<void> {
      await pool.query(CURSOR_STATUS, [id, status]);
    },
    /** A position cursor (logs mode's sweep of one program), or null when it has none yet. */
    async cursorPosition(id: string): Promise<string | null> {
      const r = await pool.query<{ position: string | null }>(READ_POSITION, [id]);
      return r.rows[0]?.position ?? null;
    },
    /** Moves a position cursor, creating it on first use. */
    async setCursorPosition(id: string, position: string): Promise<void> {
      await pool.query(SET_POSITION, [id, position]);
    },
    /** Fills in a stored mint from its account and metadata; decimals, name, symbol and uri are kept if known. */
    async fillToken(mint: string, t: TokenLookup): Promise<void> {
      await pool.query(FILL_TOKEN, [
        mint,
        t.supply.toString(),
        t.decimals,
        t.mintAuthority,
        t.freezeAuthority,
        t.name,
        t.symbol,
        t.uri,
      ]);
    },
  };
}

/** The operational writes. */
export type Operations = ReturnType<typeof createOperations>;
