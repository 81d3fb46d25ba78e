/**
 * Multi-row upserts, one statement per table per batch: every column travels as one array parameter and
 * `unnest` turns them into rows, so a batch of any size costs a handful of round trips.
 * @dev every statement is an upsert on the table's natural key: a retried or duplicated job converges. Table and
 * column names, conflict targets and wire types come from the drizzle tables (columns.ts); every statement's text is
 * built once, when the module loads.
 */
import type pg from "pg";
import { cleanText, jsonbText } from "./strings.js";
import { type ColumnKey, sqlNames } from "./columns.js";
import { str, textArray, time } from "./values.js";
import { type Upsert, columnParams, keepLast, run, uniqueRows, upsert } from "./upsert.js";
import { MERGE_CANDLES, RECOMPUTE_CANDLES, mergeCandles, recomputeCandles } from "./candles.js";
import type { DecodedBlock, TokenSeen } from "../../core/decoded.js";
import {
  BALANCE_STATEMENTS,
  FORKED_SUPPLY,
  INITIAL_SUPPLY,
  hasBalances,
  supplyWriteSql,
  writeBalances,
} from "./balances.js";
import {
  type NewLiquidityEvent,
  type NewPool,
  type NewProgramEvent,
  type NewSlotChange,
  type NewSwap,
  type NewTransaction,
  type NewTrade,
  type NewTransfer,
  liquidityEvents,
  poolCandles,
  pools,
  programEvents,
  slotChanges,
  swaps,
  tokenHolders,
  tokenTransfers,
  tokens,
  trades,
  transactions,
} from "../../schema/index.js";

/** See FORK_WINDOW_SLOTS (a statement built below needs it before that). */
const FORK_WINDOW = 10_000;

const TRANSACTIONS = upsert<NewTransaction, typeof transactions>(transactions, {
  signature: (r) => r.signature,
  slot: (r) => r.slot,
  blockTime: (r) => time(r.blockTime),
  txIndex: (r) => r.txIndex,
  fee: (r) => str(r.fee),
  success: (r) => r.success,
  err: (r) => (r.err == null ? null : jsonbText(r.err)),
  feePayer: (r) => r.feePayer,
  computeUnits: (r) => r.computeUnits ?? null,
  // an array column travels as one array literal per row (wireType)
  programIds: (r) => textArray(r.programIds),
  logTruncated: (r) => r.logTruncated ?? false,
});

const TRANSFERS = upsert<NewTransfer, typeof tokenTransfers>(tokenTransfers, {
  signature: (r) => r.signature,
  instructionPath: (r) => r.instructionPath,
  kind: (r) => r.kind,
  mint: (r) => r.mint,
  source: (r) => r.source ?? null,
  destination: (r) => r.destination ?? null,
  sourceOwner: (r) => r.sourceOwner ?? null,
  destinationOwner: (r) => r.destinationOwner ?? null,
  amount: (r) => str(r.amount),
  fee: (r) => str(r.fee ?? 0n),
  slot: (r) => r.slot,
  txIndex: (r) => r.txIndex,
  blockTime: (r) => time(r.blockTime),
});

/** Mint and burn rows, moving the supply of their mints (see balances.ts). */
const SUPPLY_TRANSFERS = supplyWriteSql(TRANSFERS.sql, TRANSFERS.cols, FORK_WINDOW);

const SWAPS = upsert<NewSwap, typeof swaps>(swaps, {
  signature: (r) => r.signature,
  instructionPath: (r) => r.instructionPath,
  pool: (r) => r.pool,
  dex: (r) => r.dex,
  trader: (r) => r.trader,
  mintIn: (r) => r.mintIn,
  mintOut: (r) => r.mintOut,
  amountIn: (r) => str(r.amountIn),
  amountOut: (r) => str(r.amountOut),
  slot: (r) => r.slot,
  txIndex: (r) => r.txIndex,
  blockTime: (r) => time(r.blockTime),
  // the pricing stage's: a slot stored again keeps its value
  valueUsd: null,
});

const LIQUIDITY = upsert<NewLiquidityEvent, typeof liquidityEvents>(liquidityEvents, {
  signature: (r) => r.signature,
  instructionPath: (r) => r.instructionPath,
  pool: (r) => r.pool,
  kind: (r) => r.kind,
  owner: (r) => r.owner,
  amountA: (r) => str(r.amountA),
  amountB: (r) => str(r.amountB),
  slot: (r) => r.slot,
  txIndex: (r) => r.txIndex,
  blockTime: (r) => time(r.blockTime),
});

const EVENTS = upsert<NewProgramEvent, typeof programEvents>(programEvents, {
  signature: (r) => r.signature,
  instructionPath: (r) => r.instructionPath,
  kind: (r) => r.kind,
  name: (r) => r.name,
  ordinal: (r) => r.ordinal ?? 0,
  programId: (r) => r.programId,
  data: (r) => jsonbText(r.data),
  slot: (r) => r.slot,
  txIndex: (r) => r.txIndex,
  blockTime: (r) => time(r.blockTime),
});

const TRADES = upsert<NewTrade, typeof trades>(trades, {
  signature: (r) => r.signature,
  trader: (r) => r.trader,
  soldMint: (r) => r.soldMint,
  soldAmount: (r) => str(r.soldAmount),
  boughtMint: (r) => r.boughtMint,
  boughtAmount: (r) => str(r.boughtAmount),
  pools: (r) => textArray(r.pools),
  slot: (r) => r.slot,
  txIndex: (r) => r.txIndex,
  blockTime: (r) => time(r.blockTime),
  // the pricing stage's: a slot stored again keeps its value
  valueUsd: null,
});

/**
 * A token as the batch saw it, merged across the batch's transactions: first and last slot seen, latest
 * authority change. @dev min/max make the stored values independent of how slots were grouped into batches.
 */
type TokenUpsert = TokenSeen & { authoritySlot: number | null; lastSlot: number; initSlot: number | null };

const tk = sqlNames(tokens);
const tkOld = sqlNames(tokens, tk.$table);
const tkNew = sqlNames(tokens, "excluded");

const TOKENS = upsert<TokenUpsert, typeof tokens>(
  tokens,
  {
    mint: (r) => r.mint,
    program: (r) => r.program,
    decimals: (r) => r.decimals,
    // the token enricher fills these from the mint account and its metadata
    supply: null,
    supplySlot: null,
    // kept by the balances writer from token_holders
    holderCount: null,
    name: null,
    symbol: null,
    uri: null,
    // authority columns are only trusted when the transaction set them (authoritySlot not null)
    mintAuthority: (r) => r.mintAuthority ?? null,
    freezeAuthority: (r) => r.freezeAuthority ?? null,
    firstSeenSlot: (r) => r.slot,
    updatedSlot: (r) => r.lastSlot,
  },
  `${tk.decimals} = coalesce(${tkNew.decimals}, ${tkOld.decimals}),
      ${tk.firstSeenSlot} = least(${tkOld.firstSeenSlot}, ${tkNew.firstSeenSlot}),
      ${tk.updatedSlot} = greatest(${tkOld.updatedSlot}, ${tkNew.updatedSlot})`,
);

/** The tokens upsert, naming the mints it inserted (they start from the holders already stored). */
const UPSERT_TOKENS = `${TOKENS.sql} returning ${tk.mint} as mint, xmax = 0 as inserted`;
const th = sqlNames(tokenHolders);
/** A new tokens row counts the holders stored before it (accounts of a mint seen first in a failed transaction). */
const NEW_HOLDER_COUNTS = `update ${tk.$table} t set ${tk.holderCount} = (select count(*) from ${th.$table} h
    where h.${th.mint} = t.${tk.mint} and h.${th.amount} > 0) where t.${tk.mint} = any($1::text[])`;

/**
 * Authority changes (initializeMint, setAuthority) of stored mints, from the batch's merged tokens: each applies
 * unless the row already reflects a later slot.
 */
const tkRow = sqlNames(tokens, "t");
const TOKEN_AUTHORITIES = `update ${tk.$table} t set
         ${tk.mintAuthority} = case when u.has_mint then u.mint_authority else ${tkRow.mintAuthority} end,
         ${tk.freezeAuthority} = case when u.has_freeze then u.freeze_authority else ${tkRow.freezeAuthority} end
       from unnest($1::text[], $2::text[], $3::text[], $4::bool[], $5::bool[], $6::int8[])
         as u(mint, mint_authority, freeze_authority, has_mint, has_freeze, slot)
       where ${tkRow.mint} = u.mint and u.slot >= ${tkRow.updatedSlot}`;

/** A pool as the batch saw it: the last transaction's reserves; creation info from whichever tx created it. */
type PoolUpsert = NewPool & { reservesOrder: number };

const pl = sqlNames(pools);
const plOld = sqlNames(pools, pl.$table);
const plNew = sqlNames(pools, "excluded");
/** The batch's creation is earlier than the stored one (or the first known). */
const earlierCreation = `${plNew.createdSlot} is not null and (${plOld.createdSlot} is null or ${plNew.createdSlot} < ${plOld.createdSlot})`;
/** The batch's reserves are from a slot at or after the stored ones'. */
const laterReserves = `${plNew.reservesSlot} is not null and ${plNew.reservesSlot} >= coalesce(${plOld.reservesSlot}, -1)`;

const POOLS = upsert<PoolUpsert, typeof pools>(
  pools,
  {
    address: (r) => r.address,
    dex: (r) => r.dex,
    programId: (r) => r.programId,
    mintA: (r) => r.mintA,
    mintB: (r) => r.mintB,
    vaultA: (r) => r.vaultA,
    vaultB: (r) => r.vaultB,
    createdSlot: (r) => r.createdSlot ?? null,
    createdSignature: (r) => r.createdSignature ?? null,
    reserveA: (r) => str(r.reserveA),
    reserveB: (r) => str(r.reserveB),
    reservesSlot: (r) => r.reservesSlot ?? null,
    lastSwapSlot: (r) => r.lastSwapSlot ?? null,
    firstSeenSlot: (r) => r.firstSeenSlot,
  },
  // the earliest creation wins, whatever order batches arrive in (a backfill may store it after a later one)
  `${pl.createdSignature} = case when ${earlierCreation} then ${plNew.createdSignature} else ${plOld.createdSignature} end,
      ${pl.createdSlot} = case when ${earlierCreation} then ${plNew.createdSlot} else ${plOld.createdSlot} end,
      ${pl.reserveA} = case when ${laterReserves} then ${plNew.reserveA} else ${plOld.reserveA} end,
      ${pl.reserveB} = case when ${laterReserves} then ${plNew.reserveB} else ${plOld.reserveB} end,
      ${pl.reservesSlot} = greatest(${plOld.reservesSlot}, ${plNew.reservesSlot}),
      ${pl.lastSwapSlot} = greatest(${plOld.lastSwapSlot}, ${plNew.lastSwapSlot}),
      ${pl.firstSeenSlot} = least(${plOld.firstSeenSlot}, ${plNew.firstSeenSlot})`,
);

/** Merges the batch's token sightings: one row per mint (ON CONFLICT cannot touch a row twice). */
export function mergeTokens(blocks: DecodedBlock[]): TokenUpsert[] {
  const byMint = new Map<string, TokenUpsert>();
  for (const b of blocks)
    for (const tx of b.transactions)
      for (const t of tx.tokens) {
        const setsAuthority = t.mintAuthority !== undefined || t.freezeAuthority !== undefined;
        const prev = byMint.get(t.mint);
        if (!prev) {
          byMint.set(t.mint, {
            ...t,
            authoritySlot: setsAuthority ? t.slot : null,
            lastSlot: t.slot,
            initSlot: t.initialized ? t.slot : null,
          });
          continue;
        }
        if (t.initialized) prev.initSlot = Math.min(prev.initSlot ?? t.slot, t.slot);
        prev.slot = Math.min(prev.slot, t.slot);
        prev.lastSlot = Math.max(prev.lastSlot, t.slot);
        prev.decimals ??= t.decimals;
        if (setsAuthority) {
          if (t.mintAuthority !== undefined) prev.mintAuthority = t.mintAuthority;
          if (t.freezeAuthority !== undefined) prev.freezeAuthority = t.freezeAuthority;
          prev.authoritySlot = t.slot;
        }
      }
  // Key order: concurrent batches lock shared rows in the same order, so they cannot deadlock.
  return [...byMint.values()].sort((a, b) => (a.mint < b.mint ? -1 : a.mint > b.mint ? 1 : 0));
}

/** Merges the batch's pool sightings: one row per pool, reserves from the last transaction in chain order. */
export function mergePools(blocks: DecodedBlock[]): PoolUpsert[] {
  const byAddress = new Map<string, PoolUpsert>();
  for (const b of blocks)
    for (const tx of b.transactions)
      for (const p of tx.pools) {
        const order = b.slot * 100_000 + tx.transaction.txIndex;
        const prev = byAddress.get(p.address);
        if (!prev) {
          byAddress.set(p.address, { ...p, reservesOrder: order });
          continue;
        }
        prev.createdSlot ??= p.createdSlot;
        prev.createdSignature ??= p.createdSignature;
        prev.firstSeenSlot = Math.min(prev.firstSeenSlot, p.firstSeenSlot);
        if (p.lastSwapSlot != null) prev.lastSwapSlot = Math.max(prev.lastSwapSlot ?? 0, p.lastSwapSlot);
        if (p.reservesSlot != null && order >= prev.reservesOrder) {
          prev.reserveA = p.reserveA;
          prev.reserveB = p.reserveB;
          prev.reservesSlot = p.reservesSlot;
          prev.reservesOrder = order;
        }
      }
  return [...byAddress.values()].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

/** One `slot_changes` row: a token or pool the slot touched (pool reserves after the slot's last transaction). */
type SlotChange = Required<NewSlotChange>;

/** The batch's change-log rows: per slot, every token and pool it touched. */
export function slotChangeRows(blocks: DecodedBlock[]): SlotChange[] {
  const out: SlotChange[] = [];
  for (const b of blocks) {
    const bySlot = new Map<string, SlotChange>();
    for (const tx of b.transactions) {
      const i = tx.transaction.txIndex;
      for (const t of tx.tokens)
        if (!bySlot.has(`t:${t.mint}`))
          bySlot.set(`t:${t.mint}`, {
            slot: b.slot,
            kind: "token",
            key: t.mint,
            txIndex: i,
            reserveA: null,
            reserveB: null,
            swapped: false,
          });
      for (const p of tx.pools) {
        const prev = bySlot.get(`p:${p.address}`);
        const swapped = (prev?.swapped ?? false) || p.lastSwapSlot === b.slot;
        // Reserves of the slot's last transaction that set them (transactions come in block order).
        const withReserves = p.reservesSlot != null;
        bySlot.set(`p:${p.address}`, {
          slot: b.slot,
          kind: "pool",
          key: p.address,
          txIndex: withReserves ? i : (prev?.txIndex ?? i),
          reserveA: withReserves ? (p.reserveA ?? null) : (prev?.reserveA ?? null),
          reserveB: withReserves ? (p.reserveB ?? null) : (prev?.reserveB ?? null),
          swapped,
        });
      }
    }
    out.push(...[...bySlot.values()].sort((x, y) => (x.kind + x.key < y.kind + y.key ? -1 : 1)));
  }
  return out;
}

const scn = sqlNames(slotChanges);
/** The incoming row carries reserves that are later in its slot than the stored row's (or the stored has none). */
const laterChangeReserves = `(excluded.${scn.reserveA} is not null or excluded.${scn.reserveB} is not null)
  and ((${scn.$table}.${scn.reserveA} is null and ${scn.$table}.${scn.reserveB} is null) or excluded.${scn.txIndex} >= ${scn.$table}.${scn.txIndex})`;

/**
 * A slot's change row, merged with the one stored: a pool's reserves are those of the slot's latest transaction in
 * block order that set them, a token's position its first, and `swapped` whether any of them swapped. Logs mode
 * stores a slot's transactions one by one in any order; block mode's row of a whole block is merged in the same
 * way, and a block delivered again changes nothing.
 */
const CHANGES = upsert<SlotChange, typeof slotChanges>(
  slotChanges,
  {
    slot: (r) => r.slot,
    kind: (r) => r.kind,
    key: (r) => r.key,
    txIndex: (r) => r.txIndex,
    reserveA: (r) => str(r.reserveA),
    reserveB: (r) => str(r.reserveB),
    swapped: (r) => r.swapped,
  },
  `${scn.txIndex} = case when ${scn.$table}.${scn.kind} = 'token' then least(${scn.$table}.${scn.txIndex}, excluded.${scn.txIndex})
       when ${laterChangeReserves} then excluded.${scn.txIndex} else ${scn.$table}.${scn.txIndex} end,
     ${scn.reserveA} = case when ${laterChangeReserves} then excluded.${scn.reserveA} else ${scn.$table}.${scn.reserveA} end,
     ${scn.reserveB} = case when ${laterChangeReserves} then excluded.${scn.reserveB} else ${scn.$table}.${scn.reserveB} end,
     ${scn.swapped} = ${scn.$table}.${scn.swapped} or excluded.${scn.swapped}`,
);

/** Advisory lock key that serializes writes to `tokens`, `pools` and `pool_candles` (see writeRows and rollbacks). */
export const SHARED_ROWS_LOCK_KEY = 0x736c6f74;

const sw = sqlNames(swaps);
const swRow = sqlNames(swaps, "s");
/** The `$n::type[]` parameter of a swaps column in SWAPS's parameters. */
const swapParam = (name: string) => {
  const i = SWAPS.cols.findIndex((c) => c.name === name);
  return `$${i + 1}::${SWAPS.cols[i]!.type}[]`;
};

/**
 * The swaps upsert, with the minutes the rows held before (a swap stored again elsewhere leaves them) and which
 * rows were there already at the same slot (a partitioned table cannot return xmax, so `old` tells).
 * @dev `old` and the final select read the statement's snapshot, taken before its own insert; `up` runs regardless.
 */
const UPSERT_SWAPS = `with old as (
       select ${swRow.pool}, ${swRow.blockTime}, ${swRow.signature}, ${swRow.instructionPath}, ${swRow.slot} from ${sw.$table} s
       join unnest(${swapParam(sw.signature)}, ${swapParam(sw.instructionPath)}) as k(${sw.signature}, ${sw.instructionPath}) using (${sw.signature}, ${sw.instructionPath})
       where ${swRow.slot} between (select min(x) - ${FORK_WINDOW} from unnest(${swapParam(sw.slot)}) x)
         and (select max(x) + ${FORK_WINDOW} from unnest(${swapParam(sw.slot)}) x)),
     up as (${SWAPS.sql} returning ${sw.signature})
     select distinct ${sw.pool} as pool, ${sw.blockTime}::text as t, null as key from old where ${sw.blockTime} is not null
     union all
     select null, null, o.${sw.signature} || ' ' || o.${sw.instructionPath} from old o
       join unnest(${swapParam(sw.signature)}, ${swapParam(sw.instructionPath)}, ${swapParam(sw.slot)}) as k(${sw.signature}, ${sw.instructionPath}, ${sw.slot})
       using (${sw.signature}, ${sw.instructionPath}, ${sw.slot})`;

/**
 * Upserts the batch's swaps; returns where the swaps it overwrote were (pool, block time), so that a swap stored
 * again at another slot or time (a transaction landing again on another fork) also leaves its former candle.
 * @dev `old` reads the statement's snapshot, taken before its own insert.
 */
async function upsertSwaps(
  client: pg.PoolClient,
  rows: NewSwap[],
): Promise<{ movedFrom: { pool: string; t: string }[]; updated: Set<string> }> {
  if (rows.length === 0) return { movedFrom: [], updated: new Set() };
  const r = await client.query<{ pool: string | null; t: string | null; key: string | null }>(
    UPSERT_SWAPS,
    columnParams(SWAPS.cols, rows),
  );
  const movedFrom: { pool: string; t: string }[] = [];
  const updated = new Set<string>();
  for (const x of r.rows) {
    if (x.key !== null) updated.add(x.key);
    else movedFrom.push({ pool: x.pool!, t: x.t! });
  }
  return { movedFrom, updated };
}

/**
 * How far apart two landings of one transaction can be: it names a recent blockhash, valid for 150 blocks, so a copy
 * on another fork lands within a few hundred slots of the first. Lookups of a signature's rows elsewhere stay inside
 * this window, which touches at most two partitions (a partition is far wider).
 */
export const FORK_WINDOW_SLOTS = FORK_WINDOW;

/**
 * Per raw table, the delete of the rows a transaction of the batch ($1 signatures at $2 slots) left at another slot in
 * [$3, $4]: natural keys hold the slot (a partitioned table's unique keys must), so a transaction that landed again on
 * another fork is moved by this delete, not by its upsert. Mints and burns go with FORKED_SUPPLY (they move supply).
 * @dev a signature twice in the batch, at two slots, keeps both rows: which one the chain keeps is not known here.
 */
const FORKED = [transactions, tokenTransfers, swaps, liquidityEvents, programEvents, trades].map((table) => {
  const n = sqlNames(table);
  const t = sqlNames(table, "t");
  const only = table === tokenTransfers ? ` and ${sqlNames(tokenTransfers, "t").kind} = 'transfer'` : "";
  return `delete from ${n.$table} t using unnest($1::text[], $2::int8[]) as k(sig, slot)
    where ${t.signature} = k.sig and ${t.slot} <> k.slot and ${t.slot} between $3 and $4${only}
      and not exists (select 1 from unnest($1::text[], $2::int8[]) as b(sig, slot) where b.sig = ${t.signature} and b.slot = ${t.slot})`;
});

const txMoved = sqlNames(transactions, "t");
/**
 * Whether a transaction of the batch ($1 signatures at $2 slots) has a row at another slot in [$3, $4] (it landed
 * again on another fork): FORKED's condition for `transactions`, asked first, since it almost never holds.
 * @dev one index scan for every signature at once (`= any`), and the batch's own rows taken away by hashing: a
 * join probing the index once per row of the batch cost three to five times as much.
 */
const MOVED = `select exists (
    select ${txMoved.signature}, ${txMoved.slot} from ${sqlNames(transactions).$table} t
    where ${txMoved.signature} = any($1::text[]) and ${txMoved.slot} between $3 and $4
    except all select * from unnest($1::text[], $2::int8[])) as moved`;

/** The parameters of FORKED and FORKED_SUPPLY for a batch's transactions. */
function forkedParams(txRows: { signature: string; slot: number }[]): unknown[] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const r of txRows) (lo = Math.min(lo, r.slot)), (hi = Math.max(hi, r.slot));
  return [
    txRows.map((r) => cleanText(r.signature)),
    txRows.map((r) => r.slot),
    lo - FORK_WINDOW_SLOTS,
    hi + FORK_WINDOW_SLOTS,
  ];
}

/** Row counts written by one batch. */
export type WriteCounts = {
  transactions: number;
  transfers: number;
  swaps: number;
  pools: number;
  liquidityEvents: number;
  programEvents: number;
  trades: number;
  tokens: number;
  /** token accounts written (one per account of the batch) */
  tokenAccounts: number;
};

/** Writes every row of `blocks` with one upsert per table; the caller owns the transaction. */
export async function writeRows(client: pg.PoolClient, blocks: DecodedBlock[]): Promise<WriteCounts> {
  const txs = blocks.flatMap((b) => b.transactions);
  // One row per natural key for every upsert (the candle merge below also counts each swap once); tokens and pools
  // are merged per key already.
  const txRows = uniqueRows(
    TRANSACTIONS,
    txs.map((t) => t.transaction),
  );
  const transfers = uniqueRows(
    TRANSFERS,
    txs.flatMap((t) => t.transfers),
  );
  // Mints and burns move supply: written under the lock below, so each knows the row it replaces.
  const moves = transfers.filter((t) => t.kind === "transfer");
  const supplyRows = moves.length === transfers.length ? [] : transfers.filter((t) => t.kind !== "transfer");
  const swapRows = uniqueRows(
    SWAPS,
    txs.flatMap((t) => t.swaps),
  );
  const liquidity = uniqueRows(
    LIQUIDITY,
    txs.flatMap((t) => t.liquidityEvents),
  );
  const events = uniqueRows(
    EVENTS,
    txs.flatMap((t) => t.programEvents),
  );
  const tradeRows = uniqueRows(
    TRADES,
    txs.flatMap((t) => t.trades),
  );
  const tokenRows = mergeTokens(blocks);
  const poolRows = mergePools(blocks);

  await run(client, TRANSACTIONS, txRows);
  await run(client, TRANSFERS, moves);
  const { movedFrom, updated } = await upsertSwaps(client, swapRows);
  await run(client, LIQUIDITY, liquidity);
  await run(client, EVENTS, events);
  await run(client, TRADES, tradeRows);
  // After the swaps upsert, which reads the moved swaps' minutes; before the candles are recomputed. Every stored
  // transaction has its transactions row, so the other tables are looked at only when one moved (rarely: a fork).
  const forked = txRows.length ? forkedParams(txRows) : null;
  const moved = forked !== null && (await client.query<{ moved: boolean }>(MOVED, forked)).rows[0]!.moved;
  if (moved) for (const statement of FORKED) await client.query(statement, forked);
  // Authority changes (initializeMint, setAuthority) on stored mints apply unless the row already reflects a
  // later slot; this runs before the upsert below moves updated_slot. New mints get them from the insert.
  const changes = tokenRows.filter((t) => t.authoritySlot != null);
  // tokens and pools are shared by every batch: concurrent store transactions take their rows one at a time, in
  // order, from here to commit (an advisory lock), or two workers touching the same mints in two statements
  // deadlock. Transactions, transfers, swaps and events above carry their own keys and stay parallel. pool_candles
  // is recomputed from swaps under the same lock (see recomputeCandles), so a batch with swaps always takes it.
  // Balances (token_accounts, token_holders, wallets) and supply read the rows they replace: under the same lock.
  if (tokenRows.length || poolRows.length || swapRows.length || supplyRows.length || hasBalances(blocks))
    await client.query("select pg_advisory_xact_lock($1)", [SHARED_ROWS_LOCK_KEY]);
  if (changes.length)
    await client.query(TOKEN_AUTHORITIES, [
      changes.map((t) => t.mint),
      changes.map((t) => t.mintAuthority ?? null),
      changes.map((t) => t.freezeAuthority ?? null),
      changes.map((t) => t.mintAuthority !== undefined),
      changes.map((t) => t.freezeAuthority !== undefined),
      changes.map((t) => t.authoritySlot),
    ]);
  if (tokenRows.length) {
    const up = await client.query<{ mint: string; inserted: boolean }>(
      UPSERT_TOKENS,
      columnParams(TOKENS.cols, tokenRows),
    );
    const inserted = up.rows.filter((r) => r.inserted).map((r) => r.mint);
    if (inserted.length) await client.query(NEW_HOLDER_COUNTS, [inserted]);
  }
  await run(client, POOLS, poolRows);
  if (supplyRows.length && moved) await client.query(FORKED_SUPPLY, forked!);
  if (supplyRows.length) await client.query(SUPPLY_TRANSFERS, columnParams(TRANSFERS.cols, supplyRows));
  const inits = tokenRows.filter((t) => t.initSlot !== null);
  if (inits.length) await client.query(INITIAL_SUPPLY, [inits.map((t) => t.mint), inits.map((t) => t.initSlot)]);
  const accounts = await writeBalances(client, blocks);

  // After the pools upsert: a candle reads its pool's mint_a, and every swap's pool row comes in the same batch.
  // New swaps are merged into their minutes; a minute with a swap stored before (delivered again, or moved) or
  // without a known position is recomputed from the table.
  const minute = (pool: string, t: Date | string) => `${cleanText(pool)} ${Math.floor(new Date(t).getTime() / 60_000)}`;
  const touched = new Map<string, [pool: string, t: string]>();
  const timed = swapRows.filter((r) => r.blockTime != null);
  for (const r of timed)
    if (r.txIndex < 0 || updated.has(`${cleanText(r.signature)} ${cleanText(r.instructionPath)}`))
      touched.set(minute(r.pool, r.blockTime!), [cleanText(r.pool), r.blockTime!.toISOString()]);
  for (const m of movedFrom) touched.set(minute(m.pool, m.t), [m.pool, m.t]);
  await recomputeCandles(
    client,
    [...touched.values()].map((p) => p[0]),
    [...touched.values()].map((p) => p[1]),
  );
  await mergeCandles(
    client,
    timed.filter((r) => !touched.has(minute(r.pool, r.blockTime!))),
  );

  await run(client, CHANGES, uniqueRows(CHANGES, slotChangeRows(blocks)));

  return {
    transactions: txRows.length,
    transfers: transfers.length,
    swaps: swapRows.length,
    pools: poolRows.length,
    liquidityEvents: liquidity.length,
    programEvents: events.length,
    trades: tradeRows.length,
    tokens: tokenRows.length,
    tokenAccounts: accounts,
  };
}

/**
 * Every upsert's statement, by what it writes, as sent to Postgres: the store's column test checks each one's
 * columns and conflict target against its table.
 */
export const UPSERT_STATEMENTS: Readonly<Record<string, string>> = {
  transactions: TRANSACTIONS.sql,
  token_transfers: TRANSFERS.sql,
  swaps: UPSERT_SWAPS,
  liquidity_events: LIQUIDITY.sql,
  program_events: EVENTS.sql,
  trades: TRADES.sql,
  tokens: TOKENS.sql,
  pools: POOLS.sql,
  slot_changes: CHANGES.sql,
  pool_candles_merge: MERGE_CANDLES,
  pool_candles_recompute: RECOMPUTE_CANDLES,
  ...BALANCE_STATEMENTS,
};
