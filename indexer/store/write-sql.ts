/**
 * Multi-row upserts, one statement per table per batch: every column travels as one array parameter and
 * `unnest` turns them into rows, so a batch of any size costs a handful of round trips.
 * @dev every statement is an upsert on the table's natural key: a retried or duplicated job converges.
 */
import type pg from "pg";
import { cleanText, jsonbText } from "./strings.js";
import type { DecodedBlock, TokenSeen } from "../../core/decoded.js";
import type {
  NewLiquidityEvent,
  NewPool,
  NewProgramEvent,
  NewSwap,
  NewTransaction,
  NewTransfer,
} from "../../schema/index.js";

/** One column: its array type on the wire, how to read it from a row, and (optionally) a cast in the select list. */
type Col<T> = { name: string; type: string; get: (row: T) => unknown; select?: string };

const str = (v: bigint | null | undefined) => (v == null ? null : v.toString());
/** The last time written and its ISO text: a block's rows share one block time, and toISOString is not free. */
let lastTime = Number.NaN;
let lastIso = "";
const time = (d: Date | null | undefined) => {
  if (d == null) return null;
  const t = d.getTime();
  if (t !== lastTime) {
    lastIso = d.toISOString();
    lastTime = t;
  }
  return lastIso;
};

/** Builds `insert ... select * from unnest(...) on conflict ...` for `cols`, with `$n` parameters in column order. */
function upsertSql<T>(table: string, cols: Col<T>[], conflict: string): string {
  const names = cols.map((c) => c.name).join(", ");
  const params = cols.map((c, i) => `$${i + 1}::${c.type}[]`).join(", ");
  const select = cols.map((c) => c.select ?? c.name).join(", ");
  return `insert into ${table} (${names}) select ${select} from unnest(${params}) as u(${names}) on conflict ${conflict}`;
}

/** A quote or backslash (escaped in a literal), U+0000 or any surrogate (the string policy's concern, strings.ts). */
const SPECIAL = /["\\\u0000\ud800-\udfff]/;

/**
 * One column of `rows` as a Postgres array literal: `{"a","b",NULL}`, numbers and booleans bare.
 * @dev what node-postgres builds from a JS array, without its per-element type checks and two regex replaces: a
 * batch of 6,400 transactions carries ~150,000 values, and pg's array serialization was 4-5% of a busy worker.
 * Nearly every value is base58, a decimal or an ISO time, so the column is built as is and its strings are tested
 * once, all together; only a column with something to clean or escape is built again, value by value (with a test
 * per value this was 9.7% of a busy worker's CPU under the ingest throughput entry, 7.0-7.6% so).
 */
function arrayLiteral<T>(rows: T[], get: (row: T) => unknown, clean: boolean): string {
  return literal(rows, get, null) ?? literal(rows, get, clean)!;
}

/**
 * arrayLiteral's builder. `careful` null: the values as they are, or null when one needs cleaning or escaping;
 * otherwise each value escaped, and cleaned under the string policy (strings.ts) when `careful` is true (jsonb values
 * are cleaned by jsonbText in their getter).
 */
function literal<T>(rows: T[], get: (row: T) => unknown, careful: boolean | null): string | null {
  let out = "{";
  let texts = "";
  for (let i = 0; i < rows.length; i++) {
    if (i > 0) out += ",";
    const v = get(rows[i]!);
    if (v === null || v === undefined) out += "NULL";
    else if (typeof v === "number" || typeof v === "boolean") out += String(v);
    else if (careful === null) {
      const s = String(v);
      // a column whose values need care (jsonb, nested literals) is built carefully from its first value on
      if (texts === "" && SPECIAL.test(s)) return null;
      texts += s;
      out += `"${s}"`;
    } else {
      const s = careful ? cleanText(String(v)) : String(v);
      out += s.includes('"') || s.includes("\\") ? `"${s.replace(/[\\"]/g, "\\$&")}"` : `"${s}"`;
    }
  }
  return careful === null && SPECIAL.test(texts) ? null : `${out}}`;
}

/** The array parameters of `rows`, in column order, as array literals. */
function columnParams<T>(cols: Col<T>[], rows: T[]): string[] {
  return cols.map((c) => arrayLiteral(rows, c.get, c.type === "text"));
}

async function run<T>(
  client: pg.PoolClient,
  table: string,
  cols: Col<T>[],
  conflict: string,
  rows: T[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const r = await client.query(upsertSql(table, cols, conflict), columnParams(cols, rows));
  return r.rowCount ?? 0;
}

const overwrite = (cols: string[]) => cols.map((c) => `${c} = excluded.${c}`).join(", ");

const BASE58 = /^[1-9A-HJ-NP-Za-km-z]+$/;

/** A list of keys as a text[] literal; a key (32-44 base58 characters) goes bare, so the column needs no escaping. */
const textArray = (xs: string[]) =>
  `{${xs.map((x) => (x.length >= 32 && BASE58.test(x) ? x : `"${x.replace(/[\\"]/g, "\\$&")}"`)).join(",")}}`;

const TX_COLS: Col<NewTransaction>[] = [
  { name: "signature", type: "text", get: (r) => r.signature },
  { name: "slot", type: "int8", get: (r) => r.slot },
  { name: "block_time", type: "timestamptz", get: (r) => time(r.blockTime) },
  { name: "tx_index", type: "int4", get: (r) => r.txIndex },
  { name: "fee", type: "numeric", get: (r) => str(r.fee) },
  { name: "success", type: "bool", get: (r) => r.success },
  { name: "err", type: "jsonb", get: (r) => (r.err == null ? null : jsonbText(r.err)) },
  { name: "fee_payer", type: "text", get: (r) => r.feePayer },
  { name: "compute_units", type: "int8", get: (r) => r.computeUnits ?? null },
  // text[][] cannot hold ragged arrays: carry each list as a Postgres array literal and cast per row.
  { name: "program_ids", type: "text", get: (r) => textArray(r.programIds), select: "program_ids::text[]" },
  { name: "log_truncated", type: "bool", get: (r) => r.logTruncated ?? false },
];

const TRANSFER_COLS: Col<NewTransfer>[] = [
  { name: "signature", type: "text", get: (r) => r.signature },
  { name: "instruction_path", type: "text", get: (r) => r.instructionPath },
  { name: "kind", type: "text", get: (r) => r.kind },
  { name: "mint", type: "text", get: (r) => r.mint },
  { name: "source", type: "text", get: (r) => r.source ?? null },
  { name: "destination", type: "text", get: (r) => r.destination ?? null },
  { name: "source_owner", type: "text", get: (r) => r.sourceOwner ?? null },
  { name: "destination_owner", type: "text", get: (r) => r.destinationOwner ?? null },
  { name: "amount", type: "numeric", get: (r) => str(r.amount) },
  { name: "fee", type: "numeric", get: (r) => str(r.fee ?? 0n) },
  { name: "slot", type: "int8", get: (r) => r.slot },
  { name: "tx_index", type: "int4", get: (r) => r.txIndex },
  { name: "block_time", type: "timestamptz", get: (r) => time(r.blockTime) },
];

const SWAP_COLS: Col<NewSwap>[] = [
  { name: "signature", type: "text", get: (r) => r.signature },
  { name: "instruction_path", type: "text", get: (r) => r.instructionPath },
  { name: "pool", type: "text", get: (r) => r.pool },
  { name: "dex", type: "text", get: (r) => r.dex },
  { name: "trader", type: "text", get: (r) => r.trader },
  { name: "mint_in", type: "text", get: (r) => r.mintIn },
  { name: "mint_out", type: "text", get: (r) => r.mintOut },
  { name: "amount_in", type: "numeric", get: (r) => str(r.amountIn) },
  { name: "amount_out", type: "numeric", get: (r) => str(r.amountOut) },
  { name: "slot", type: "int8", get: (r) => r.slot },
  { name: "tx_index", type: "int4", get: (r) => r.txIndex },
  { name: "block_time", type: "timestamptz", get: (r) => time(r.blockTime) },
];

const LIQUIDITY_COLS: Col<NewLiquidityEvent>[] = [
  { name: "signature", type: "text", get: (r) => r.signature },
  { name: "instruction_path", type: "text", get: (r) => r.instructionPath },
  { name: "pool", type: "text", get: (r) => r.pool },
  { name: "kind", type: "text", get: (r) => r.kind },
  { name: "owner", type: "text", get: (r) => r.owner },
  { name: "amount_a", type: "numeric", get: (r) => str(r.amountA) },
  { name: "amount_b", type: "numeric", get: (r) => str(r.amountB) },
  { name: "slot", type: "int8", get: (r) => r.slot },
  { name: "tx_index", type: "int4", get: (r) => r.txIndex },
  { name: "block_time", type: "timestamptz", get: (r) => time(r.blockTime) },
];

const EVENT_COLS: Col<NewProgramEvent>[] = [
  { name: "signature", type: "text", get: (r) => r.signature },
  { name: "instruction_path", type: "text", get: (r) => r.instructionPath },
  { name: "kind", type: "text", get: (r) => r.kind },
  { name: "name", type: "text", get: (r) => r.name },
  { name: "ordinal", type: "int4", get: (r) => r.ordinal ?? 0 },
  { name: "program_id", type: "text", get: (r) => r.programId },
  { name: "data", type: "jsonb", get: (r) => jsonbText(r.data) },
  { name: "slot", type: "int8", get: (r) => r.slot },
  { name: "tx_index", type: "int4", get: (r) => r.txIndex },
  { name: "block_time", type: "timestamptz", get: (r) => time(r.blockTime) },
];

/**
 * A token as the batch saw it, merged across the batch's transactions: first and last slot seen, latest
 * authority change. @dev min/max make the stored values independent of how slots were grouped into batches.
 */
type TokenUpsert = TokenSeen & { authoritySlot: number | null; lastSlot: number };

const TOKEN_COLS: Col<TokenUpsert>[] = [
  { name: "mint", type: "text", get: (r) => r.mint },
  { name: "program", type: "text", get: (r) => r.program },
  { name: "decimals", type: "int4", get: (r) => r.decimals },
  { name: "mint_authority", type: "text", get: (r) => r.mintAuthority ?? null },
  { name: "freeze_authority", type: "text", get: (r) => r.freezeAuthority ?? null },
  // authority columns are only trusted when the transaction set them (authoritySlot not null)
  { name: "updated_slot", type: "int8", get: (r) => r.lastSlot },
  { name: "first_seen_slot", type: "int8", get: (r) => r.slot },
];

/** A pool as the batch saw it: the last transaction's reserves; creation info from whichever tx created it. */
type PoolUpsert = NewPool & { reservesOrder: number };

const POOL_COLS: Col<PoolUpsert>[] = [
  { name: "address", type: "text", get: (r) => r.address },
  { name: "dex", type: "text", get: (r) => r.dex },
  { name: "program_id", type: "text", get: (r) => r.programId },
  { name: "mint_a", type: "text", get: (r) => r.mintA },
  { name: "mint_b", type: "text", get: (r) => r.mintB },
  { name: "vault_a", type: "text", get: (r) => r.vaultA },
  { name: "vault_b", type: "text", get: (r) => r.vaultB },
  { name: "created_slot", type: "int8", get: (r) => r.createdSlot ?? null },
  { name: "created_signature", type: "text", get: (r) => r.createdSignature ?? null },
  { name: "reserve_a", type: "numeric", get: (r) => str(r.reserveA) },
  { name: "reserve_b", type: "numeric", get: (r) => str(r.reserveB) },
  { name: "reserves_slot", type: "int8", get: (r) => r.reservesSlot ?? null },
  { name: "last_swap_slot", type: "int8", get: (r) => r.lastSwapSlot ?? null },
  { name: "first_seen_slot", type: "int8", get: (r) => r.firstSeenSlot },
];

/** Merges the batch's token sightings: one row per mint (ON CONFLICT cannot touch a row twice). */
export function mergeTokens(blocks: DecodedBlock[]): TokenUpsert[] {
  const byMint = new Map<string, TokenUpsert>();
  for (const b of blocks)
    for (const tx of b.transactions)
      for (const t of tx.tokens) {
        const setsAuthority = t.mintAuthority !== undefined || t.freezeAuthority !== undefined;
        const prev = byMint.get(t.mint);
        if (!prev) {
          byMint.set(t.mint, { ...t, authoritySlot: setsAuthority ? t.slot : null, lastSlot: t.slot });
          continue;
        }
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
type SlotChange = {
  slot: number;
  kind: "token" | "pool";
  key: string;
  txIndex: number;
  reserveA: bigint | null;
  reserveB: bigint | null;
  swapped: boolean;
};

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

const CHANGE_COLS: Col<SlotChange>[] = [
  { name: "slot", type: "int8", get: (r) => r.slot },
  { name: "kind", type: "text", get: (r) => r.kind },
  { name: "key", type: "text", get: (r) => r.key },
  { name: "tx_index", type: "int4", get: (r) => r.txIndex },
  { name: "reserve_a", type: "numeric", get: (r) => str(r.reserveA) },
  { name: "reserve_b", type: "numeric", get: (r) => str(r.reserveB) },
  { name: "swapped", type: "bool", get: (r) => r.swapped },
];

/** Advisory lock key that serializes writes to `tokens`, `pools` and `pool_candles` (see writeRows and rollbacks). */
export const SHARED_ROWS_LOCK_KEY = 0x736c6f74;

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
  const upsert = upsertSql(
    "swaps",
    SWAP_COLS,
    `(signature, instruction_path) do update set ${overwrite(SWAP_COLS.map((c) => c.name).filter((n) => n !== "signature" && n !== "instruction_path"))}`,
  );
  // The minutes the rows held before (a swap stored again elsewhere leaves them), and which rows were there already
  // (xmax = 0 only for a row this statement inserted).
  const r = await client.query<{ pool: string | null; t: string | null; key: string | null }>(
    `with old as (
       select distinct s.pool, s.block_time from swaps s
       join unnest($1::text[], $2::text[]) as k(signature, instruction_path) using (signature, instruction_path)
       where s.block_time is not null),
     up as (${upsert} returning signature, instruction_path, xmax = 0 as inserted)
     select pool, block_time::text as t, null as key from old
     union all
     select null, null, signature || ' ' || instruction_path from up where not inserted`,
    columnParams(SWAP_COLS, rows),
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
 * Price, volumes and order key of each swap, as both candle statements compute them (`n` holds the swaps, `p` its
 * pool).
 */
const SWAP_VALUES = `
  select array[n.slot, n.tx_index] || string_to_array(n.instruction_path, '.')::int8[] as k,
    case when n.mint_in = p.mint_a then n.amount_out::numeric / nullif(n.amount_in, 0)
         else n.amount_in::numeric / nullif(n.amount_out, 0) end as ratio,
    case when n.mint_in = p.mint_a then n.amount_in else n.amount_out end as va,
    case when n.mint_in = p.mint_a then n.amount_out else n.amount_in end as vb`;

/** One candle per (pool, bucket) group of `n` joined to `p`: open and close by order key, signature breaking ties. */
const CANDLE_AGG = `
  array_agg(v.ratio order by v.k, n.signature) filter (where v.ratio is not null) as r,
  min(v.k) filter (where v.ratio is not null) as ok, max(v.k) filter (where v.ratio is not null) as ck,
  max(v.ratio) as high, min(v.ratio) as low, sum(v.va) as va, sum(v.vb) as vb, count(*)::int4 as n`;

const CANDLE_COLUMNS = `g.r[1] as open, g.high, g.low, g.r[cardinality(g.r)] as close,
  g.ok[1] as open_slot, g.ok[2]::int4 as open_tx_index, g.ok[3:]::int4[] as open_path,
  g.ck[1] as close_slot, g.ck[2]::int4 as close_tx_index, g.ck[3:]::int4[] as close_path,
  g.va as volume_a, g.vb as volume_b, g.n as swaps`;

const key = (t: string, side: "open" | "close") =>
  `(array[${t}.${side}_slot, ${t}.${side}_tx_index] || ${t}.${side}_path::int8[])`;
/** Whether the batch's open (close) comes before (after) the stored one. */
const earlierOpen = `(excluded.open_slot is not null and (pool_candles.open_slot is null or ${key("excluded", "open")} < ${key("pool_candles", "open")}))`;
const laterClose = `(excluded.close_slot is not null and (pool_candles.close_slot is null or ${key("excluded", "close")} > ${key("pool_candles", "close")}))`;

/**
 * Merges swaps this transaction inserted (new to the table) into their minutes' candles: open and close move only
 * if the new swap comes before or after them, high and low widen, volumes and counts add up.
 * @dev only for rows the swaps upsert inserted (a row delivered again is not added twice) and whose order key is
 * unique (block mode: slot, position, instruction path); minutes with an updated or moved swap, and logs-mode rows
 * (position unknown), are recomputed instead. Same lock rule as recomputeCandles.
 */
const MERGE_CANDLES = `
  with n as (
    select x.*, date_bin('1 minute', x.block_time, 'epoch'::timestamptz) as bucket
    from unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int4[], $6::text[], $7::numeric[], $8::numeric[], $9::timestamptz[])
      as x(signature, instruction_path, pool, slot, tx_index, mint_in, amount_in, amount_out, block_time)),
  g as (
    select n.pool, n.bucket, ${CANDLE_AGG}
    from n join pools p on p.address = n.pool
    cross join lateral (${SWAP_VALUES}) v
    group by n.pool, n.bucket)
  insert into pool_candles (pool, bucket, open, high, low, close, open_slot, open_tx_index, open_path,
    close_slot, close_tx_index, close_path, volume_a, volume_b, swaps)
  select g.pool, g.bucket, ${CANDLE_COLUMNS} from g order by g.pool, g.bucket
  on conflict (pool, bucket) do update set
    open = case when ${earlierOpen} then excluded.open else pool_candles.open end,
    open_slot = case when ${earlierOpen} then excluded.open_slot else pool_candles.open_slot end,
    open_tx_index = case when ${earlierOpen} then excluded.open_tx_index else pool_candles.open_tx_index end,
    open_path = case when ${earlierOpen} then excluded.open_path else pool_candles.open_path end,
    close = case when ${laterClose} then excluded.close else pool_candles.close end,
    close_slot = case when ${laterClose} then excluded.close_slot else pool_candles.close_slot end,
    close_tx_index = case when ${laterClose} then excluded.close_tx_index else pool_candles.close_tx_index end,
    close_path = case when ${laterClose} then excluded.close_path else pool_candles.close_path end,
    high = greatest(pool_candles.high, excluded.high), low = least(pool_candles.low, excluded.low),
    volume_a = pool_candles.volume_a + excluded.volume_a, volume_b = pool_candles.volume_b + excluded.volume_b,
    swaps = pool_candles.swaps + excluded.swaps`;

async function mergeCandles(client: pg.PoolClient, rows: NewSwap[]): Promise<void> {
  if (rows.length === 0) return;
  await client.query(MERGE_CANDLES, [
    rows.map((r) => cleanText(r.signature)),
    rows.map((r) => cleanText(r.instructionPath)),
    rows.map((r) => cleanText(r.pool)),
    rows.map((r) => r.slot),
    rows.map((r) => r.txIndex),
    rows.map((r) => cleanText(r.mintIn)),
    rows.map((r) => str(r.amountIn)),
    rows.map((r) => str(r.amountOut)),
    rows.map((r) => time(r.blockTime)),
  ]);
}

/** Recomputes the rows of `pool_candles` for the (pool, UTC minute) of each (pools[i], times[i]). */
const RECOMPUTE_CANDLES = `
  with touched as (
    select distinct x.pool, date_bin('1 minute', x.t, 'epoch'::timestamptz) as bucket
    from unnest($1::text[], $2::timestamptz[]) as x(pool, t) where x.t is not null),
  fresh as (
    select g.pool, g.bucket, ${CANDLE_COLUMNS}
    from (
      select u.pool, u.bucket, ${CANDLE_AGG}
      from touched u
      join pools p on p.address = u.pool
      -- offset 0 keeps this a per-minute index range scan (swaps_pool_time_idx), whatever the planner guesses
      cross join lateral (
        select s.signature, s.slot, s.tx_index, s.instruction_path, s.mint_in, s.amount_in, s.amount_out from swaps s
        where s.pool = u.pool and s.block_time >= u.bucket and s.block_time < u.bucket + interval '1 minute' offset 0) n
      cross join lateral (${SWAP_VALUES}) v
      group by u.pool, u.bucket) g),
  emptied as (
    delete from pool_candles c using touched u
    where c.pool = u.pool and c.bucket = u.bucket and not exists (select 1 from fresh f where f.pool = u.pool and f.bucket = u.bucket))
  insert into pool_candles (pool, bucket, open, high, low, close, open_slot, open_tx_index, open_path,
    close_slot, close_tx_index, close_path, volume_a, volume_b, swaps)
  select * from fresh order by pool, bucket
  on conflict (pool, bucket) do update set open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
    open_slot = excluded.open_slot, open_tx_index = excluded.open_tx_index, open_path = excluded.open_path,
    close_slot = excluded.close_slot, close_tx_index = excluded.close_tx_index, close_path = excluded.close_path,
    volume_a = excluded.volume_a, volume_b = excluded.volume_b, swaps = excluded.swaps`;

/**
 * Recomputes the one-minute candles of the (pool, minute) of each (pools[i], times[i]) from `swaps`, in one
 * statement: every such row is rewritten whole (open/close by swap key, signature breaking ties; high, low, volumes,
 * count), and one whose minute has no swap left is deleted. Null times are skipped (no candle).
 * @dev the caller must hold pg_advisory_xact_lock(SHARED_ROWS_LOCK_KEY) until commit. Under READ COMMITTED the
 * statement sees what was committed when it started; the lock makes it start after the previous holder (another
 * store batch or a rollback) committed, so whichever transaction recomputes a minute last sees every swap stored
 * in it, and two workers writing swaps of the same minute at once cannot drop each other's. Without the lock both
 * recompute from their own swaps only and the later upsert overwrites the earlier one. (In writeRows the pools
 * upsert before it also holds each pool's row to commit, which orders writers of one pool too; the lock is the rule.)
 */
export async function recomputeCandles(
  client: pg.PoolClient,
  pools: string[],
  times: (string | null)[],
): Promise<number> {
  if (pools.length === 0) return 0;
  const r = await client.query(RECOMPUTE_CANDLES, [pools, times]);
  return r.rowCount ?? 0;
}

/** Row counts written by one batch. */
export type WriteCounts = {
  transactions: number;
  transfers: number;
  swaps: number;
  pools: number;
  liquidityEvents: number;
  programEvents: number;
  tokens: number;
};

/** Writes every row of `blocks` with one upsert per table; the caller owns the transaction. */
export async function writeRows(client: pg.PoolClient, blocks: DecodedBlock[]): Promise<WriteCounts> {
  const txs = blocks.flatMap((b) => b.transactions);
  const transfers = txs.flatMap((t) => t.transfers);
  const swapRows = txs.flatMap((t) => t.swaps);
  const liquidity = txs.flatMap((t) => t.liquidityEvents);
  const events = txs.flatMap((t) => t.programEvents);
  const tokenRows = mergeTokens(blocks);
  const poolRows = mergePools(blocks);

  const rest = (cols: { name: string }[], key: string[]) =>
    overwrite(cols.map((c) => c.name).filter((n) => !key.includes(n)));
  await run(
    client,
    "transactions",
    TX_COLS,
    `(signature) do update set ${rest(TX_COLS, ["signature"])}`,
    txs.map((t) => t.transaction),
  );
  await run(
    client,
    "token_transfers",
    TRANSFER_COLS,
    `(signature, instruction_path) do update set ${rest(TRANSFER_COLS, ["signature", "instruction_path"])}`,
    transfers,
  );
  const { movedFrom, updated } = await upsertSwaps(client, swapRows);
  await run(
    client,
    "liquidity_events",
    LIQUIDITY_COLS,
    `(signature, instruction_path) do update set ${rest(LIQUIDITY_COLS, ["signature", "instruction_path"])}`,
    liquidity,
  );
  await run(
    client,
    "program_events",
    EVENT_COLS,
    `(signature, instruction_path, kind, name, ordinal) do update set ${rest(EVENT_COLS, ["signature", "instruction_path", "kind", "name", "ordinal"])}`,
    events,
  );
  // Authority changes (initializeMint, setAuthority) on stored mints apply unless the row already reflects a
  // later slot; this runs before the upsert below moves updated_slot. New mints get them from the insert.
  const changes = tokenRows.filter((t) => t.authoritySlot != null);
  // tokens and pools are shared by every batch: concurrent store transactions take their rows one at a time, in
  // order, from here to commit (an advisory lock), or two workers touching the same mints in two statements
  // deadlock. Transactions, transfers, swaps and events above carry their own keys and stay parallel. pool_candles
  // is recomputed from swaps under the same lock (see recomputeCandles), so a batch with swaps always takes it.
  if (tokenRows.length || poolRows.length || swapRows.length)
    await client.query("select pg_advisory_xact_lock($1)", [SHARED_ROWS_LOCK_KEY]);
  if (changes.length)
    await client.query(
      `update tokens t set
         mint_authority = case when u.has_mint then u.mint_authority else t.mint_authority end,
         freeze_authority = case when u.has_freeze then u.freeze_authority else t.freeze_authority end
       from unnest($1::text[], $2::text[], $3::text[], $4::bool[], $5::bool[], $6::int8[])
         as u(mint, mint_authority, freeze_authority, has_mint, has_freeze, slot)
       where t.mint = u.mint and u.slot >= t.updated_slot`,
      [
        changes.map((t) => t.mint),
        changes.map((t) => t.mintAuthority ?? null),
        changes.map((t) => t.freezeAuthority ?? null),
        changes.map((t) => t.mintAuthority !== undefined),
        changes.map((t) => t.freezeAuthority !== undefined),
        changes.map((t) => t.authoritySlot),
      ],
    );
  await run(
    client,
    "tokens",
    TOKEN_COLS,
    `(mint) do update set
      decimals = coalesce(excluded.decimals, tokens.decimals),
      first_seen_slot = least(tokens.first_seen_slot, excluded.first_seen_slot),
      updated_slot = greatest(tokens.updated_slot, excluded.updated_slot)`,
    tokenRows,
  );
  await run(
    client,
    "pools",
    POOL_COLS,
    `(address) do update set
      -- the earliest creation wins, whatever order batches arrive in (a backfill may store it after a later one)
      created_signature = case when excluded.created_slot is not null and (pools.created_slot is null or excluded.created_slot < pools.created_slot)
                               then excluded.created_signature else pools.created_signature end,
      created_slot = case when excluded.created_slot is not null and (pools.created_slot is null or excluded.created_slot < pools.created_slot)
                          then excluded.created_slot else pools.created_slot end,
      reserve_a = case when excluded.reserves_slot is not null and excluded.reserves_slot >= coalesce(pools.reserves_slot, -1) then excluded.reserve_a else pools.reserve_a end,
      reserve_b = case when excluded.reserves_slot is not null and excluded.reserves_slot >= coalesce(pools.reserves_slot, -1) then excluded.reserve_b else pools.reserve_b end,
      reserves_slot = greatest(pools.reserves_slot, excluded.reserves_slot),
      last_swap_slot = greatest(pools.last_swap_slot, excluded.last_swap_slot),
      first_seen_slot = least(pools.first_seen_slot, excluded.first_seen_slot)`,
    poolRows,
  );
  // After the pools upsert: a candle reads its pool's mint_a, and every swap's pool row comes in the same batch.
  // New swaps are merged into their minutes; a minute with a swap stored before (delivered again, or moved) or
  // without a known position (logs mode) is recomputed from the table.
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

  await run(
    client,
    "slot_changes",
    CHANGE_COLS,
    `(slot, kind, key) do update set ${rest(CHANGE_COLS, ["slot", "kind", "key"])}`,
    slotChangeRows(blocks),
  );

  return {
    transactions: txs.length,
    transfers: transfers.length,
    swaps: swapRows.length,
    pools: poolRows.length,
    liquidityEvents: liquidity.length,
    programEvents: events.length,
    tokens: tokenRows.length,
  };
}
