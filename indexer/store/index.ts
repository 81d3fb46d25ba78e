/**
 * Stage 4: decoded blocks -> Postgres. One Postgres transaction per batch holds every row and the slots'
 * `slots` rows, so a slot is either wholly stored or not at all; the live resume point is derived from them.
 * @dev table and column names come from schema/ (columns.ts); every statement's text is built when the module loads.
 */
import type pg from "pg";
import type { Context } from "../../core/context.js";
import type { DecodedBlock, DecodedTransaction } from "../../core/decoded.js";
import { failpoint } from "../../core/failpoints.js";
import {
  cursors,
  liquidityEvents,
  passedSignatures,
  pools,
  SNAPSHOT_TX_INDEX,
  programEvents,
  slotChanges,
  slots,
  swaps,
  tokenTransfers,
  tokens,
  trades,
  transactions,
} from "../../schema/index.js";
import type { PgTable } from "drizzle-orm/pg-core";
import { type ColumnKey, naturalKey, sqlNames } from "./columns.js";
import { recomputeCandles } from "./candles.js";
import { SHARED_ROWS_LOCK_KEY, type WriteCounts, writeRows } from "./write-sql.js";
import { keepLast } from "./upsert.js";
import {
  FORGET_FORKED_SUPPLY,
  ROLLBACK_SUPPLY,
  pruneBalanceChanges,
  rollbackBalances,
  seedBalances,
  type TokenSnapshot,
} from "./balances.js";
import { type Operations, createOperations } from "./operations.js";
import { createPartitionKeeper } from "./partitions.js";
import {
  PRICING_CURSOR,
  guardPricing,
  lockPricing,
  pruneLimit,
  rewindBelowCursor,
  rewindForNewSlots,
  rewindPricing,
} from "./pricing.js";

export type { WriteCounts } from "./write-sql.js";
/**
 * The advisory lock every store transaction that writes shared rows (tokens, pools, pool_candles) holds until commit.
 */
export type { BackfillCursor, DeadLetterRecord, TokenLookup } from "./operations.js";
export { SHARED_ROWS_LOCK_KEY } from "./write-sql.js";
export { cleanText, jsonbText } from "./strings.js";
export type { TokenSnapshot } from "./balances.js";
export { PRICING_CURSOR, PRICING_LOCK_KEY, pricingCursor } from "./pricing.js";
export { naturalKey, sqlNames } from "./columns.js";
export { addToRollups } from "./rollups.js";
export { type StoredPnlBasis, pnlBases, writePnlRows } from "./pnl.js";
export { RANKING_GENERATIONS, ensureRankings, writeRankings, writeRankingsIfDue } from "./rankings.js";

/** The live ingest cursor's id in `cursors`. */
export const LIVE_CURSOR = "live";

/** The store. */
export type Store = Operations & {
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
  /**
   * Drops the raw rows' partitions wholly `keepSlots` or more below both the live resume point and the pricing
   * cursor (never ahead of what is derived from them); returns the horizon (null while either cursor is missing).
   */
  applyRetention(keepSlots: number): Promise<{ horizon: number | null; dropped: number }>;
  /**
   * Makes the raw rows' slot partitions of `slot` and the `ahead` after it (idempotent; a busy table throws a
   * RetryableError); returns the first slot past the last partition made.
   */
  makePartitionsAhead(slot: number, ahead: number): Promise<number>;
  /** Of `signatures`, those neither stored nor known to invoke no tracked program. */
  unstoredSignatures(signatures: string[]): Promise<string[]>;
  /** Records slots that produced no block (getBlocks left them out, or -32007/-32009). */
  markSkipped(slots: number[], commitment: "confirmed" | "finalized"): Promise<void>;
  /**
   * Deletes every row of these slots and marks them rolled_back, in one transaction; balances, holders and supply go
   * back to what the remaining slots left.
   */
  rollbackSlots(slots: number[]): Promise<number>;
  /**
   * Marks stored confirmed slots at or below `slot` as finalized and prunes the change logs of what they touched
   * (see pruneChanges, pruneBalanceChanges); returns the number of slot_changes rows pruned.
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
  /**
   * Seeds a mint's token accounts, their change log, holders and holder count from a snapshot at its slot, in one
   * transaction under the shared rows' lock: transactions after that slot override the seed, and a row set by a
   * transaction at or after it is kept. Idempotent. Returns the mint's accounts holding the snapshot's state.
   */
  seedTokenAccounts(
    snapshot: TokenSnapshot,
    onProgress?: (done: number, total: number) => void,
  ): Promise<{ seeded: number; closed: number }>;
  /** `slots` rows in [from, to] with their chain links (parent slot, blockhash, the parent's blockhash), by slot. */
  chainRows(from: number, to: number, limit?: number): Promise<ChainRow[]>;
};

/** A `slots` row with its place in the chain (null links: a row written without a block, or before links were kept). */
export type ChainRow = {
  slot: number;
  status: string;
  parentSlot: number | null;
  blockhash: string | null;
  previousBlockhash: string | null;
};

/** Slot states the resume point may pass: the slot's fate on the chain is known and stored. */
const DONE = "('indexed', 'skipped', 'rolled_back')";

const sl = sqlNames(slots);
const slKey = naturalKey(slots).join(", ");
const sc = sqlNames(slotChanges);
const scRow = sqlNames(slotChanges, "c");
const cu = sqlNames(cursors);
const tk = sqlNames(tokens);
const tkRow = sqlNames(tokens, "t");
const pl = sqlNames(pools);
const plRow = sqlNames(pools, "p");
const sw = sqlNames(swaps);

/** Deletes the rows of the data tables whose rows belong to a slot (rolled back with it); swaps go separately. */
const DELETE_SLOT_ROWS = [transactions, tokenTransfers, liquidityEvents, programEvents, trades].map((table) => {
  const n = sqlNames(table);
  return `delete from ${n.$table} where ${n.slot} = any($1::int8[])`;
});

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

/** Per key of one kind ($2) in the change log, as `a(key, first_slot, <last>)`: its first slot, and `last`. */
const changeSpan = (kind: "token" | "pool", last: string) =>
  `(select ${sc.key} as key, min(${sc.slot}) as first_slot, ${last}
     from ${sc.$table} where ${sc.kind} = '${kind}' and ${sc.key} = any($2::text[]) group by ${sc.key}) a`;

/** `col = <value> when the slot in column setBy was rolled back ($1), else col`, for table rows aliased `alias`. */
function unlessRolledBack<T extends PgTable>(table: T, alias: string) {
  const n = sqlNames(table);
  const row = sqlNames(table, alias);
  return (col: ColumnKey<T>, setBy: ColumnKey<T>, value: string) =>
    `${n[col]} = case when ${row[setBy]} = any($1::int8[]) then ${value} else ${row[col]} end`;
}
const tkUnless = unlessRolledBack(tokens, "t");
const plUnless = unlessRolledBack(pools, "p");

const RECOMPUTE_TOKENS = `update ${tk.$table} t set
       ${tkUnless("firstSeenSlot", "firstSeenSlot", "a.first_slot")},
       ${tkUnless("updatedSlot", "updatedSlot", "a.last_slot")}
     from ${changeSpan("token", `max(${sc.slot}) as last_slot`)}
     where a.key = ${tkRow.mint}`;
const DELETE_UNSEEN_TOKENS = `delete from ${tk.$table} t where ${tkRow.mint} = any($1::text[])
     and not exists (select 1 from ${sc.$table} c where ${scRow.kind} = 'token' and ${scRow.key} = ${tkRow.mint})`;
const RECOMPUTE_POOLS = `update ${pl.$table} p set
       ${plUnless("firstSeenSlot", "firstSeenSlot", "a.first_slot")},
       ${plUnless("lastSwapSlot", "lastSwapSlot", "a.last_swap")},
       ${plUnless("createdSlot", "createdSlot", "null")},
       ${plUnless("createdSignature", "createdSlot", "null")},
       ${plUnless("reserveA", "reservesSlot", "r.reserve_a")},
       ${plUnless("reserveB", "reservesSlot", "r.reserve_b")},
       ${plUnless("reservesSlot", "reservesSlot", "r.slot")}
     from ${changeSpan("pool", `max(${sc.slot}) filter (where ${sc.swapped}) as last_swap`)}
     left join lateral (
       select ${scRow.slot} as slot, ${scRow.reserveA} as reserve_a, ${scRow.reserveB} as reserve_b from ${sc.$table} c
       where ${scRow.kind} = 'pool' and ${scRow.key} = a.key and ${scRow.reserveA} is not null
       order by ${scRow.slot} desc, ${scRow.txIndex} desc limit 1) r on true
     where a.key = ${plRow.address}`;
const DELETE_UNSEEN_POOLS = `delete from ${pl.$table} p where ${plRow.address} = any($1::text[])
     and not exists (select 1 from ${sc.$table} c where ${scRow.kind} = 'pool' and ${scRow.key} = ${plRow.address})`;

/** Recomputes tokens and pools touched by rolled-back slots from the change log that remains. */
async function recomputeAfterRollback(client: pg.PoolClient, slots: number[], tokenKeys: string[], poolKeys: string[]) {
  await client.query(RECOMPUTE_TOKENS, [slots, tokenKeys]);
  // A token or pool seen only in dropped slots never existed on the canonical chain.
  await client.query(DELETE_UNSEEN_TOKENS, [tokenKeys]);
  await client.query(RECOMPUTE_POOLS, [slots, poolKeys]);
  await client.query(DELETE_UNSEEN_POOLS, [poolKeys]);
}

const scRanked = sqlNames(slotChanges, "r");
const byKey = `partition by ${sc.kind}, ${sc.key} order by`;
/**
 * The change-log prune over the rows `where` picks: of each key's rows, every one goes but its first and last slot, its
 * last swap and its last reserves (what recomputeAfterRollback reads), and any that `keep` names.
 */
const pruneSql = (where: string, keep?: string) => `delete from ${sc.$table} c using (
       select ${sc.slot}, ${sc.kind}, ${sc.key},
              row_number() over (${byKey} ${sc.slot}) as r_first,
              row_number() over (${byKey} ${sc.slot} desc) as r_last,
              row_number() over (${byKey} ${sc.swapped} desc, ${sc.slot} desc) as r_swap,
              row_number() over (${byKey} (${sc.reserveA} is not null) desc, ${sc.slot} desc, ${sc.txIndex} desc) as r_res
       from ${sc.$table}
       where ${where}
     ) r
     where ${scRow.slot} = ${scRanked.slot} and ${scRow.kind} = ${scRanked.kind} and ${scRow.key} = ${scRanked.key}
       and r.r_first > 1 and r.r_last > 1 and r.r_swap > 1 and r.r_res > 1${keep ? `\n       and not (${keep})` : ""}`;
const PRUNE_CHANGES = pruneSql(
  `${sc.slot} <= $1 and (${sc.kind}, ${sc.key}) in (select ${sc.kind}, ${sc.key} from ${sc.$table} where ${sc.slot} = any($2::int8[]))`,
  `${scRow.kind} = 'pool' and ${scRow.reserveA} is not null`,
);

/**
 * Below the retention floor (the first slot of the oldest partition kept) nothing is stored again (a backfill there is
 * refused), so the pricing stage never rewinds there: of a pool's reserve changes only the rows a rollback reads stay.
 */
const PRUNE_POOL_RESERVES = pruneSql(
  `${sc.slot} < (select ${cu.slot} from ${cu.$table} where ${cu.id} = 'retention') and ${sc.kind} = 'pool'`,
);

/**
 * Prunes the change log below finality. For each token or pool the newly finalized slots touched, of its rows at or
 * below `upToSlot` only those a later rollback can need are kept: the first and last slot, the last swap and the
 * last reserves (what recomputeAfterRollback reads). A pool's reserves at each slot are kept too: a backfill below
 * the pricing cursor rewinds the stage to below it, however far, and the stage then reads them again (they go with
 * retention, below which nothing is stored again). Every other finalized row goes, so the log holds at most four
 * rows per token below finality, a pool's reserve changes, and the unfinalized window.
 * @dev slots at or below a finalized slot are never rolled back (a deeper fork halts ingest: deep_reorg), so the
 * min/max/latest over the kept rows and the unfinalized ones equal those over the full log.
 */
async function pruneChanges(client: pg.PoolClient, upToSlot: number, newlyFinalized: number[]): Promise<number> {
  const r = await client.query(PRUNE_CHANGES, [upToSlot, newlyFinalized]);
  return r.rowCount ?? 0;
}

// A slot already indexed stays indexed: only the finality tracker may undo it (a fork switch).
const INSERT_SKIPPED = `insert into ${sl.$table} (${sl.slot}, ${sl.status}, ${sl.commitment}, ${sl.txCount})
     select s, 'skipped', $2, 0 from unnest($1::int8[]) s
     on conflict (${slKey}) do update set ${sl.status} = 'skipped', ${sl.commitment} = excluded.${sl.commitment}, ${sl.indexedAt} = now()
     where ${sl.$table}.${sl.status} <> 'indexed'`;

async function upsertSkipped(client: pg.PoolClient | pg.Pool, slots: number[], commitment: string) {
  if (slots.length === 0) return;
  await client.query(INSERT_SKIPPED, [slots, commitment]);
}

/** A finalized slot stored again (a retried job) stays finalized. */
const INSERT_INDEXED = `insert into ${sl.$table} (${[sl.slot, sl.status, sl.commitment, sl.blockTime, sl.parentSlot, sl.blockhash, sl.previousBlockhash, sl.txCount].join(", ")})
     select s, 'indexed', $2, bt, p, h, ph, n from unnest($1::int8[], $3::timestamptz[], $4::int8[], $5::text[], $7::text[], $6::int4[]) as u(s, bt, p, h, ph, n)
     on conflict (${slKey}) do update set ${sl.status} = 'indexed', ${sl.blockTime} = excluded.${sl.blockTime},
       ${sl.commitment} = case when ${sl.$table}.${sl.status} = 'indexed' and ${sl.$table}.${sl.commitment} = 'finalized' then 'finalized' else excluded.${sl.commitment} end,
       ${sl.parentSlot} = excluded.${sl.parentSlot}, ${sl.blockhash} = excluded.${sl.blockhash},
       ${sl.previousBlockhash} = excluded.${sl.previousBlockhash}, ${sl.txCount} = excluded.${sl.txCount}, ${sl.indexedAt} = now()`;
const ps = sqlNames(passedSignatures);
const INSERT_PASSED = `insert into ${ps.$table} (${ps.signature}, ${ps.slot}) select * from unnest($1::text[], $2::int8[])
     on conflict (${naturalKey(passedSignatures).join(", ")}) do nothing`;
const UNSTORED = `select s from unnest($1::text[]) s
     where not exists (select 1 from ${sqlNames(transactions).$table} t where ${sqlNames(transactions, "t").signature} = s)
       and not exists (select 1 from ${ps.$table} p where ${sqlNames(passedSignatures, "p").signature} = s)`;
/** The dropped swaps' (pool, minute) candles, read as the swaps go. */
const DELETE_SWAPS = `with d as (delete from ${sw.$table} where ${sw.slot} = any($1::int8[]) returning ${sw.pool} as pool, ${sw.blockTime} as t)
     select distinct pool, date_bin('1 minute', t, 'epoch'::timestamptz)::text as t from d where t is not null`;
const DELETE_CHANGES = `delete from ${sc.$table} where ${sc.slot} = any($1::int8[]) returning ${sc.kind} as kind, ${sc.key} as key`;
const MARK_ROLLED_BACK = `update ${sl.$table} set ${sl.status} = 'rolled_back', ${sl.indexedAt} = now() where ${sl.slot} = any($1::int8[])`;
/** The resume point must not stay above a slot that has to be indexed again. */
const LOWER_LIVE_CURSOR = `update ${cu.$table} set ${cu.slot} = least(${cu.slot}, $1::int8 - 1), ${cu.updatedAt} = now() where ${cu.id} = $2`;
const MARK_FINALIZED = `update ${sl.$table} set ${sl.commitment} = 'finalized'
     where ${sl.slot} <= $1 and ${sl.commitment} = 'confirmed' and ${sl.status} <> 'rolled_back' returning ${sl.slot}::text as slot`;
const FINALIZED_BETWEEN = `select ${sl.slot}::text as s from ${sl.$table}
     where ${sl.slot} between $1 and $2 and ${sl.status} = 'indexed' and ${sl.commitment} = 'finalized' order by ${sl.slot}`;
const LIVE_POINT = `select ${cu.slot}::text as slot from ${cu.$table} where ${cu.id} = $1`;
const INIT_LIVE_CURSOR = `insert into ${cu.$table} (${cu.id}, ${cu.kind}, ${cu.status}, ${cu.slot}) values ($1, 'live', 'running', $2)
     on conflict (${naturalKey(cursors).join(", ")}) do nothing`;
/** A slot already done stays done; a rolled-back one is pending again. */
const INSERT_PENDING = `insert into ${sl.$table} (${sl.slot}, ${sl.status}, ${sl.txCount}) select s, 'pending', 0 from unnest($1::int8[]) s
     on conflict (${slKey}) do update set ${sl.status} = 'pending', ${sl.indexedAt} = now() where ${sl.$table}.${sl.status} = 'rolled_back'`;
const cuRow = sqlNames(cursors, "c");
const slRow = sqlNames(slots, "s");
const ADVANCE_LIVE_CURSOR = `update ${cu.$table} c set ${cu.slot} = greatest(${cuRow.slot}, least($2::int8,
         coalesce((select min(${slRow.slot}) - 1 from ${sl.$table} s where ${slRow.slot} > ${cuRow.slot} and ${slRow.status} = 'pending'), $2::int8))),
       ${cu.updatedAt} = now()
     where ${cu.id} = $1 returning ${cu.slot}::text as slot`;
const PENDING_SLOTS = `select ${sl.slot}::text as s from ${sl.$table} where ${sl.slot} > $1 and ${sl.status} = 'pending' order by ${sl.slot} limit $2`;
const NOT_DONE = `select s::text from unnest($1::int8[]) s
     where not exists (select 1 from ${sl.$table} where ${sl.slot} = s and ${sl.status} in ${DONE})`;
const LOWEST_UNFINALIZED = `select min(${sl.slot})::text as s from ${sl.$table} where ${sl.status} = 'indexed' and ${sl.commitment} = 'confirmed'`;
const SLOTS_BETWEEN = `select ${sl.slot}::text as slot, ${sl.status} as status from ${sl.$table}
     where ${sl.slot} between $1 and $2 order by ${sl.slot}`;
const CHAIN_ROWS = `select ${sl.slot}::text as slot, ${sl.status} as status, ${sl.parentSlot}::text as parent,
       ${sl.blockhash} as hash, ${sl.previousBlockhash} as prev from ${sl.$table}
     where ${sl.slot} between $1 and $2 order by ${sl.slot} limit $3`;
/** The retention horizon: `$3` slots below the lower of the live resume point and the pricing cursor. */
const RETENTION_HORIZON = `select (least(max(${cu.slot}) filter (where ${cu.id} = $1), max(${cu.slot}) filter (where ${cu.id} = $2))
       - $3::int8)::text as h from ${cu.$table} where ${cu.id} in ($1, $2)
     having count(${cu.slot}) = 2`;
const FORGET_SLOTS = `delete from ${sl.$table} where ${sl.slot} = any($1::int8[]) and ${sl.status} <> 'indexed'`;

/**
 * `blocks` with one block per slot, the last of each, in their order: a batch that carries a slot twice (delivered
 * twice, or a broken answer) would otherwise meet the slot's marker twice in one upsert.
 */
const oneBlockPerSlot = (blocks: DecodedBlock[]): DecodedBlock[] => keepLast(blocks, (b) => b.slot);

const txn = sqlNames(transactions);
const STORED_SIGNATURES = `select ${txn.signature} as s from ${txn.$table} where ${txn.signature} = any($1::text[])`;

/** Creates the store over the context's pool. */
export function createStore(ctx: Pick<Context, "db">): Store {
  const pool = ctx.db.$client;
  const partitions = createPartitionKeeper(pool);
  return {
    ...createOperations(pool),
    async writeBlocks(given, opts) {
      const blocks = oneBlockPerSlot(given);
      await partitions.ensure(blocks.map((b) => b.slot));
      const out = await inTransaction(pool, async (client) => {
        await guardPricing(
          client,
          blocks.map((b) => b.slot),
        );
        const counts = await writeRows(client, blocks);
        await failpoint("slot.afterRows");
        // a slot stored for the first time below the pricing cursor (a backfill) is priced again, with what follows
        await rewindForNewSlots(
          client,
          blocks.map((b) => b.slot),
        );
        if (blocks.length)
          await client.query(INSERT_INDEXED, [
            blocks.map((b) => b.slot),
            opts.commitment,
            blocks.map((b) => (b.blockTime == null ? null : new Date(b.blockTime * 1000).toISOString())),
            blocks.map((b) => b.parentSlot),
            blocks.map((b) => b.blockhash),
            blocks.map((b) => b.txCount),
            blocks.map((b) => b.previousBlockhash ?? null),
          ]);
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
          // in block order, as a block's: the merges of a slot's rows (reserves, first and last seen) follow it
          transactions: list.sort((a, b) => a.transaction.txIndex - b.transaction.txIndex),
        }));
      await partitions.ensure(blocks.map((b) => b.slot));
      return inTransaction(pool, async (client) => {
        // below the pricing cursor as block mode's writes are (writeBlocks): the lock, then a rewind for the
        // transactions stored for the first time (a notification delivered twice stores its transaction again)
        await guardPricing(
          client,
          blocks.map((b) => b.slot),
        );
        const seen = await client.query<{ s: string }>(STORED_SIGNATURES, [txs.map((t) => t.transaction.signature)]);
        const stored = new Set(seen.rows.map((r) => r.s));
        const counts = await writeRows(client, blocks);
        await rewindBelowCursor(
          client,
          txs.filter((t) => !stored.has(t.transaction.signature)).map((t) => t.transaction.slot),
        );
        if (passed.length)
          await client.query(INSERT_PASSED, [passed.map((p) => p.signature), passed.map((p) => p.slot)]);
        return counts;
      });
    },
    makePartitionsAhead(slot, ahead) {
      return partitions.ahead(slot, ahead);
    },
    async applyRetention(keepSlots) {
      const r = await pool.query<{ h: string | null }>(RETENTION_HORIZON, [LIVE_CURSOR, PRICING_CURSOR, keepSlots]);
      const horizon = r.rows[0]?.h == null ? null : Number(r.rows[0].h);
      if (horizon === null || horizon <= 0) return { horizon, dropped: 0 };
      const dropped = await partitions.dropBelow(horizon);
      if (dropped) await pool.query(PRUNE_POOL_RESERVES);
      return { horizon, dropped };
    },
    async unstoredSignatures(signatures) {
      if (signatures.length === 0) return [];
      const r = await pool.query<{ s: string }>(UNSTORED, [signatures]);
      return r.rows.map((x) => x.s);
    },
    async markSkipped(slots, commitment) {
      await upsertSkipped(pool, slots, commitment);
    },
    async rollbackSlots(slots) {
      if (slots.length === 0) return 0;
      return inTransaction(pool, async (client) => {
        // tokens, pools and pool_candles are recomputed below: the same lock as a store transaction's (see writeRows)
        // the pricing stage's lock first (the order every transaction taking both follows): a pricing run writes
        // value_usd on the rows deleted below, and its rows at and above the fork are dropped
        await lockPricing(client, "exclusive");
        await client.query("select pg_advisory_xact_lock($1)", [SHARED_ROWS_LOCK_KEY]);
        // the dropped mints and burns leave the supply before their rows go with the rest
        await client.query(ROLLBACK_SUPPLY, [slots]);
        for (const sql of DELETE_SLOT_ROWS) await client.query(sql, [slots]);
        const minutes = await client.query<{ pool: string; t: string }>(DELETE_SWAPS, [slots]);
        await failpoint("rollback.afterDeletes");
        // tokens and pools: recompute what the dropped slots contributed from the change log of the slots that remain.
        const gone = await client.query<{ kind: string; key: string }>(DELETE_CHANGES, [slots]);
        const keys = (kind: string) => [...new Set(gone.rows.filter((g) => g.kind === kind).map((g) => g.key))];
        await recomputeAfterRollback(client, slots, keys("token"), keys("pool"));
        // balances, holders and holder counts: back to the change logs of the slots that remain
        await rollbackBalances(client, slots);
        await client.query(FORGET_FORKED_SUPPLY, [Math.min(...slots)]);
        // Each of those minutes is rewritten from the swaps that remain (and pools, for mint_a), or deleted when none
        // remain.
        await recomputeCandles(
          client,
          minutes.rows.map((m) => m.pool),
          minutes.rows.map((m) => m.t),
        );
        const r = await client.query(MARK_ROLLED_BACK, [slots]);
        await client.query(LOWER_LIVE_CURSOR, [Math.min(...slots), LIVE_CURSOR]);
        // prices at and above the fork were measured with the dropped slots: the pricing stage measures them again
        await rewindPricing(client, Math.min(...slots));
        return r.rowCount ?? 0;
      });
    },
    async markFinalized(upToSlot) {
      return inTransaction(pool, async (client) => {
        const fin = await client.query<{ slot: string }>(MARK_FINALIZED, [upToSlot]);
        if (!fin.rowCount) return 0;
        const newly = fin.rows.map((r) => Number(r.slot));
        await pruneBalanceChanges(client, upToSlot, newly);
        // the pool reserves the pricing stage has not read yet stay in the change log
        return pruneChanges(client, await pruneLimit(client, upToSlot), newly);
      });
    },
    async finalizedBetween(from, to) {
      const r = await pool.query<{ s: string }>(FINALIZED_BETWEEN, [from, to]);
      return r.rows.map((x) => Number(x.s));
    },
    async liveResumePoint() {
      const r = await pool.query<{ slot: string | null }>(LIVE_POINT, [LIVE_CURSOR]);
      return r.rows[0]?.slot == null ? null : Number(r.rows[0].slot);
    },
    async initLiveCursor(slot) {
      await pool.query(INIT_LIVE_CURSOR, [LIVE_CURSOR, slot]);
      return (await this.liveResumePoint()) ?? slot;
    },
    async markPending(slots) {
      if (slots.length === 0) return;
      await pool.query(INSERT_PENDING, [slots]);
    },
    async advanceLiveCursor(scanned) {
      const r = await pool.query<{ slot: string | null }>(ADVANCE_LIVE_CURSOR, [LIVE_CURSOR, scanned]);
      return r.rows[0]?.slot == null ? null : Number(r.rows[0].slot);
    },
    async pendingSlots(from, limit) {
      const r = await pool.query<{ s: string }>(PENDING_SLOTS, [from, limit]);
      return r.rows.map((x) => Number(x.s));
    },
    async notDone(slots) {
      if (slots.length === 0) return [];
      const r = await pool.query<{ s: string }>(NOT_DONE, [slots]);
      return r.rows.map((x) => Number(x.s));
    },
    async lowestUnfinalized() {
      const r = await pool.query<{ s: string | null }>(LOWEST_UNFINALIZED);
      return r.rows[0]?.s == null ? null : Number(r.rows[0].s);
    },
    async slotsBetween(from, to) {
      const r = await pool.query<{ slot: string; status: string }>(SLOTS_BETWEEN, [from, to]);
      return r.rows.map((x) => ({ slot: Number(x.slot), status: x.status }));
    },
    async forgetSlots(slots) {
      if (slots.length) await pool.query(FORGET_SLOTS, [slots]);
    },
    async seedTokenAccounts(snapshot, onProgress) {
      return inTransaction(pool, async (client) => {
        // token_accounts, token_holders and tokens: the lock every balance write holds (see writeRows)
        await client.query("select pg_advisory_xact_lock($1)", [SHARED_ROWS_LOCK_KEY]);
        return seedBalances(client, snapshot, SNAPSHOT_TX_INDEX, onProgress);
      });
    },
    async chainRows(from, to, limit = 10_000) {
      const r = await pool.query<{
        slot: string;
        status: string;
        parent: string | null;
        hash: string | null;
        prev: string | null;
      }>(CHAIN_ROWS, [from, to, limit]);
      return r.rows.map((x) => ({
        slot: Number(x.slot),
        status: x.status,
        parentSlot: x.parent === null ? null : Number(x.parent),
        blockhash: x.hash,
        previousBlockhash: x.prev,
      }));
    },
  };
}
