/**
 * The store's operational writes, beside the chain data: dead letters, the progress cursors of backfills and of logs
 * mode's sweeps, and the token enricher's lookups. Names come from schema/ like every other statement of the store.
 */
import type pg from "pg";
import { cursors, deadLetters, tokens } from "../../schema/index.js";
import { sqlNames } from "./columns.js";
import { READ_SUPPLY } from "./balances.js";
import { SHARED_ROWS_LOCK_KEY } from "./write-sql.js";

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

/** A read at least as recent as the stored one ($3 per mint) replaces the supply. */
const newerRead = `(t.${tk.supplySlot} is null or t.${tk.supplySlot} <= u.slot)`;
const FILL_TOKENS = `update ${tk.$table} t set
    ${tk.supply} = case when ${newerRead} then ${READ_SUPPLY} else t.${tk.supply} end,
    ${tk.supplySlot} = case when ${newerRead} then u.slot else t.${tk.supplySlot} end,
    ${tk.decimals} = coalesce(t.${tk.decimals}, u.decimals),
    ${tk.mintAuthority} = u.mint_authority, ${tk.freezeAuthority} = u.freeze_authority,
    ${tk.name} = coalesce(u.name, t.${tk.name}), ${tk.symbol} = coalesce(u.symbol, t.${tk.symbol}), ${tk.uri} = coalesce(u.uri, t.${tk.uri})
  from unnest($1::text[], $2::numeric[], $3::int8[], $4::int4[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
    as u(mint, supply, slot, decimals, mint_authority, freeze_authority, name, symbol, uri)
  where t.${tk.mint} = u.mint`;

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
  /** the slot the supply was read at (the answer's context slot) */
  slot: number;
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
    /**
     * Fills in stored mints from their accounts and metadata, in one statement; decimals, name, symbol and uri are
     * kept if known. A supply is the one read at its `slot` plus the mints and burns stored after that slot; a read
     * older than the stored one leaves the supply as it is.
     * @dev under the store's shared-rows lock: a batch storing mints and burns of these mints either committed
     * before (its rows are summed here) or moves the supply set here after it (store/balances.ts).
     */
    async fillTokens(rows: { mint: string; lookup: TokenLookup }[]): Promise<void> {
      if (rows.length === 0) return;
      const col = <T>(f: (t: TokenLookup) => T) => rows.map((r) => f(r.lookup));
      const client = await pool.connect();
      try {
        await client.query("begin");
        await client.query("select pg_advisory_xact_lock($1)", [SHARED_ROWS_LOCK_KEY]);
        await client.query(FILL_TOKENS, [
          rows.map((r) => r.mint),
          col((t) => t.supply.toString()),
          col((t) => t.slot),
          col((t) => t.decimals),
          col((t) => t.mintAuthority),
          col((t) => t.freezeAuthority),
          col((t) => t.name),
          col((t) => t.symbol),
          col((t) => t.uri),
        ]);
        await client.query("commit");
      } catch (err) {
        await client.query("rollback").catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
  };
}

/** The operational writes. */
export type Operations = ReturnType<typeof createOperations>;
