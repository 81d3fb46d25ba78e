/**
 * Balances: `token_accounts` and `wallets` as of the latest stored transaction in chain order, their change logs, the
 * holders of each mint (`token_holders`, `tokens.holder_count`) and the exact supply of each mint.
 * @dev the contract: the rows are a function of the set of stored transactions, whatever order and however often
 * batches arrive. An account's row is set only by a transaction later in chain order ((slot, tx_index) greater)
 * than the one that set it; holders move by the difference between an account's row before and after each
 * statement, so they always equal the sum over the final `token_accounts`. Every statement here runs under
 * SHARED_ROWS_LOCK_KEY (writeRows, rollbackSlots): the old rows a statement reads are the ones it replaces.
 */
import type pg from "pg";
import type { DecodedBlock, TokenAccountState, WalletState } from "../../core/decoded.js";
import {
  tokenAccountChanges,
  tokenAccounts,
  tokenHolders,
  tokenTransfers,
  tokens,
  walletChanges,
  wallets,
} from "../../schema/index.js";
import { sqlNames } from "./columns.js";
import { columnParams, run, upsert } from "./upsert.js";
import { str } from "./values.js";

/** Chain order of a (slot, tx_index) pair: positive when a is later. */
const later = (a: { slot: number; txIndex: number }, b: { slot: number; txIndex: number }) =>
  a.slot - b.slot || a.txIndex - b.txIndex;

/** Per key, the row latest in chain order, sorted by key (shared rows are locked in one order). */
function latestBy<T extends { slot: number; txIndex: number }>(rows: Iterable<T>, key: (r: T) => string): T[] {
  const m = new Map<string, T>();
  for (const r of rows) {
    const k = key(r);
    const prev = m.get(k);
    if (!prev || later(r, prev) > 0) m.set(k, r);
  }
  return [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((e) => e[1]);
}

/**
 * True when every state of the batch is of one slot (a worker stores one block per transaction): the latest per
 * account is then also the latest per account and slot, and the change log's rows are the same rows.
 */
const oneSlot = (blocks: DecodedBlock[]) => blocks.length === 1 || blocks.every((b) => b.slot === blocks[0]!.slot);

/** The batch's token account states: the latest per account, and the latest per account and slot (change log). */
export function mergeAccountStates(blocks: DecodedBlock[]): {
  rows: TokenAccountState[];
  changes: TokenAccountState[];
} {
  const all = blocks.flatMap((b) => b.transactions.flatMap((t) => t.tokenAccounts));
  const rows = latestBy(all, (r) => r.address);
  return { rows, changes: oneSlot(blocks) ? rows : latestBy(all, (r) => `${r.address} ${r.slot}`) };
}

/** The batch's signer lamports: the latest per wallet, and the latest per wallet and slot (change log). */
export function mergeWalletStates(blocks: DecodedBlock[]): { rows: WalletState[]; changes: WalletState[] } {
  const all = blocks.flatMap((b) => b.transactions.flatMap((t) => t.wallets));
  const rows = latestBy(all, (r) => r.address);
  return { rows, changes: oneSlot(blocks) ? rows : latestBy(all, (r) => `${r.address} ${r.slot}`) };
}

const ta = sqlNames(tokenAccounts);
const tac = sqlNames(tokenAccountChanges);
const th = sqlNames(tokenHolders);
const tk = sqlNames(tokens);
const wa = sqlNames(wallets);
const wc = sqlNames(walletChanges);
const tt = sqlNames(tokenTransfers);

/** The account columns a statement reads back, in one order. */
const ACCOUNT_COLS = [ta.address, ta.mint, ta.owner, ta.program, ta.amount, ta.slot, ta.txIndex, ta.closed];
const accountCols = ACCOUNT_COLS.join(", ");
/** `col = excluded.col` for every non-key column of token_accounts. */
const setAccount = ACCOUNT_COLS.slice(1)
  .map((c) => `${c} = excluded.${c}`)
  .join(", ");

const accountGetters = {
  address: (r: TokenAccountState) => r.address,
  mint: (r: TokenAccountState) => r.mint,
  owner: (r: TokenAccountState) => r.owner,
  program: (r: TokenAccountState) => r.program,
  amount: (r: TokenAccountState) => str(r.amount),
  slot: (r: TokenAccountState) => r.slot,
  txIndex: (r: TokenAccountState) => r.txIndex,
  closed: (r: TokenAccountState) => r.closed,
};

/** The account rows' columns as written, for their array parameters. */
const ACCOUNTS = upsert<TokenAccountState, typeof tokenAccounts>(tokenAccounts, accountGetters);

const ACCOUNT_CHANGES = upsert<TokenAccountState, typeof tokenAccountChanges>(
  tokenAccountChanges,
  accountGetters,
  `${[tac.txIndex, tac.mint, tac.owner, tac.program, tac.amount, tac.closed].map((c) => `${c} = excluded.${c}`).join(", ")}
     where excluded.${tac.txIndex} > ${tac.$table}.${tac.txIndex}`,
);

const walletGetters = {
  address: (r: WalletState) => r.address,
  lamports: (r: WalletState) => str(r.lamports),
  slot: (r: WalletState) => r.slot,
  txIndex: (r: WalletState) => r.txIndex,
};
const WALLETS = upsert<WalletState, typeof wallets>(
  wallets,
  walletGetters,
  `${wa.lamports} = excluded.${wa.lamports}, ${wa.slot} = excluded.${wa.slot}, ${wa.txIndex} = excluded.${wa.txIndex}
     where (excluded.${wa.slot}, excluded.${wa.txIndex}) > (${wa.$table}.${wa.slot}, ${wa.$table}.${wa.txIndex})`,
);
const WALLET_CHANGES = upsert<WalletState, typeof walletChanges>(
  walletChanges,
  walletGetters,
  `${wc.txIndex} = excluded.${wc.txIndex}, ${wc.lamports} = excluded.${wc.lamports}
     where excluded.${wc.txIndex} > ${wc.$table}.${wc.txIndex}`,
);

/**
 * The tail of a statement whose CTEs `up` (account rows as now written) and `gone` (account rows as they were, for
 * the same accounts) are defined: moves token_holders by the difference, and tokens.holder_count by the owners that
 * crossed zero. Returns the holders left with no account (deleted by the caller: a statement cannot delete a row it
 * updates).
 * @dev a closed account or one without an owner holds nothing; an owner's row counts its open accounts.
 */
const HOLDERS_TAIL = `,
  d as (
    select ${ta.mint}, ${ta.owner}, sum(amount) as amount, sum(accounts)::int4 as accounts from (
      select ${ta.mint}, ${ta.owner}, ${ta.amount} as amount, 1 as accounts from up where not ${ta.closed} and ${ta.owner} is not null
      union all
      select ${ta.mint}, ${ta.owner}, -${ta.amount}, -1 from gone where not ${ta.closed} and ${ta.owner} is not null
    ) x group by ${ta.mint}, ${ta.owner}),
  hold as (
    select h.${th.mint}, h.${th.owner}, h.${th.amount} from ${th.$table} h
    join d on h.${th.mint} = d.${ta.mint} and h.${th.owner} = d.${ta.owner}),
  hup as (
    insert into ${th.$table} (${th.mint}, ${th.owner}, ${th.amount}, ${th.accounts})
    select ${ta.mint}, ${ta.owner}, amount, accounts from d where amount <> 0 or accounts <> 0
    on conflict (${th.mint}, ${th.owner}) do update set ${th.amount} = ${th.$table}.${th.amount} + excluded.${th.amount},
      ${th.accounts} = ${th.$table}.${th.accounts} + excluded.${th.accounts}
    returning ${th.mint}, ${th.owner}, ${th.amount}, ${th.accounts}),
  hc as (
    select n.${th.mint}, count(*) filter (where n.${th.amount} > 0) - count(*) filter (where o.${th.amount} > 0) as delta
    from hup n left join hold o on o.${th.mint} = n.${th.mint} and o.${th.owner} = n.${th.owner} group by n.${th.mint}),
  tup as (
    update ${tk.$table} t set ${tk.holderCount} = t.${tk.holderCount} + hc.delta from hc
    where t.${tk.mint} = hc.${th.mint} and hc.delta <> 0 returning 1)
  select ${th.mint} as mint, ${th.owner} as owner from hup where ${th.accounts} = 0`;

/** The account rows of `keys` (a CTE of addresses) as they are before the statement. */
const GONE_OF = (keys: string) =>
  `select ${ACCOUNT_COLS.map((c) => `a.${c}`).join(", ")} from ${ta.$table} a join ${keys} k on a.${ta.address} = k.${ta.address}`;

/**
 * The batch's account states, each written where it is later in chain order than the stored row (the same
 * transaction again changes nothing), with holders moved by the difference.
 */
const WRITE_ACCOUNTS = `with k as (select unnest($1::text[]) as ${ta.address}),
  old as (${GONE_OF("k")}),
  up as (
    ${ACCOUNTS.sql}
    where (excluded.${ta.slot}, excluded.${ta.txIndex}) > (${ta.$table}.${ta.slot}, ${ta.$table}.${ta.txIndex})
    returning ${accountCols}),
  gone as (select o.* from old o join up on up.${ta.address} = o.${ta.address})${HOLDERS_TAIL}`;

/** Accounts ($1) whose change log lost rows: each back to its latest remaining change, or gone when none remains. */
const RESTORE_ACCOUNTS = `with k as (select distinct unnest($1::text[]) as ${ta.address}),
  prev as (
    select distinct on (c.${tac.address}) ${ACCOUNT_COLS.map((c) => `c.${c}`).join(", ")} from ${tac.$table} c
    join k on c.${tac.address} = k.${ta.address} order by c.${tac.address}, c.${tac.slot} desc),
  gone as (${GONE_OF("k")}),
  del as (
    delete from ${ta.$table} a where a.${ta.address} in (select ${ta.address} from k)
      and not exists (select 1 from prev p where p.${ta.address} = a.${ta.address}) returning 1),
  up as (
    insert into ${ta.$table} (${accountCols}) select ${accountCols} from prev
    on conflict (${ta.address}) do update set ${setAccount} returning ${accountCols})${HOLDERS_TAIL}`;

const DELETE_EMPTY_HOLDERS = `delete from ${th.$table} h using unnest($1::text[], $2::text[]) as k(mint, owner)
  where h.${th.mint} = k.mint and h.${th.owner} = k.owner and h.${th.accounts} = 0 and h.${th.amount} = 0`;

async function dropEmptyHolders(client: pg.PoolClient, r: pg.QueryResult<{ mint: string; owner: string }>) {
  if (r.rows.length === 0) return;
  await client.query(DELETE_EMPTY_HOLDERS, [r.rows.map((x) => x.mint), r.rows.map((x) => x.owner)]);
}

const RESTORE_WALLETS = `with k as (select distinct unnest($1::text[]) as ${wa.address}),
  prev as (
    select distinct on (c.${wc.address}) c.${wc.address}, c.${wc.lamports}, c.${wc.slot}, c.${wc.txIndex} from ${wc.$table} c
    join k on c.${wc.address} = k.${wa.address} order by c.${wc.address}, c.${wc.slot} desc),
  del as (
    delete from ${wa.$table} a where a.${wa.address} in (select ${wa.address} from k)
      and not exists (select 1 from prev p where p.${wa.address} = a.${wa.address}) returning 1)
  insert into ${wa.$table} (${wa.address}, ${wa.lamports}, ${wa.slot}, ${wa.txIndex})
  select ${wc.address}, ${wc.lamports}, ${wc.slot}, ${wc.txIndex} from prev
  on conflict (${wa.address}) do update set ${wa.lamports} = excluded.${wa.lamports}, ${wa.slot} = excluded.${wa.slot},
    ${wa.txIndex} = excluded.${wa.txIndex}`;

/** Writes the batch's token accounts, wallets and their change logs; the caller holds SHARED_ROWS_LOCK_KEY. */
export async function writeBalances(client: pg.PoolClient, blocks: DecodedBlock[]): Promise<number> {
  const accounts = mergeAccountStates(blocks);
  const walletRows = mergeWalletStates(blocks);
  if (accounts.rows.length) {
    const r = await client.query<{ mint: string; owner: string }>(
      WRITE_ACCOUNTS,
      columnParams(ACCOUNTS.cols, accounts.rows),
    );
    await dropEmptyHolders(client, r);
    await run(client, ACCOUNT_CHANGES, accounts.changes);
  }
  await run(client, WALLETS, walletRows.rows);
  await run(client, WALLET_CHANGES, walletRows.changes);
  return accounts.rows.length;
}

/** Whether the batch has balances to write (a store transaction then takes the shared rows' lock). */
export const hasBalances = (blocks: DecodedBlock[]): boolean =>
  blocks.some((b) => b.transactions.some((t) => t.tokenAccounts.length > 0 || t.wallets.length > 0));

const DELETE_ACCOUNT_CHANGES = `delete from ${tac.$table} where ${tac.slot} = any($1::int8[]) returning ${tac.address} as address`;
const DELETE_WALLET_CHANGES = `delete from ${wc.$table} where ${wc.slot} = any($1::int8[]) returning ${wc.address} as address`;

/**
 * Rolls back the balances of dropped slots: every account and wallet they touched goes back to its latest change in
 * the slots that remain (or goes, when none remains), holders and holder counts with it.
 */
export async function rollbackBalances(client: pg.PoolClient, slots: number[]): Promise<void> {
  const a = await client.query<{ address: string }>(DELETE_ACCOUNT_CHANGES, [slots]);
  if (a.rows.length) {
    const keys = [...new Set(a.rows.map((x) => x.address))].sort();
    await dropEmptyHolders(client, await client.query(RESTORE_ACCOUNTS, [keys]));
  }
  const w = await client.query<{ address: string }>(DELETE_WALLET_CHANGES, [slots]);
  if (w.rows.length) await client.query(RESTORE_WALLETS, [[...new Set(w.rows.map((x) => x.address))].sort()]);
}

/** Prunes a change log below finality: of each key the newly finalized slots touched, its latest row at or below. */
const pruneLog = (n: { $table: string; address: string; slot: string }) =>
  `delete from ${n.$table} c using (
       select ${n.address}, ${n.slot}, row_number() over (partition by ${n.address} order by ${n.slot} desc) as r
       from ${n.$table}
       where ${n.slot} <= $1 and ${n.address} in (select ${n.address} from ${n.$table} where ${n.slot} = any($2::int8[]))
     ) r where c.${n.address} = r.${n.address} and c.${n.slot} = r.${n.slot} and r.r > 1`;
const PRUNE_ACCOUNT_CHANGES = pruneLog(tac);
const PRUNE_WALLET_CHANGES = pruneLog(wc);

/**
 * Prunes token_account_changes and wallet_changes as pruneChanges does slot_changes: at or below `upToSlot`, only
 * the latest row of each key is kept (a rollback above finality restores from it). Returns the rows pruned.
 */
export async function pruneBalanceChanges(
  client: pg.PoolClient,
  upToSlot: number,
  newlyFinalized: number[],
): Promise<number> {
  const a = await client.query(PRUNE_ACCOUNT_CHANGES, [upToSlot, newlyFinalized]);
  const w = await client.query(PRUNE_WALLET_CHANGES, [upToSlot, newlyFinalized]);
  return (a.rowCount ?? 0) + (w.rowCount ?? 0);
}

/** A mint's or burn's signed effect on supply. */
const SIGNED = `case ${tt.kind} when 'mint' then ${tt.amount} else -${tt.amount} end`;

/**
 * Adds per-mint supply deltas (CTE `d(mint, slot, delta)`) to tokens whose supply was read before the delta's slot.
 * @dev a supply read at supply_slot already holds every mint and burn up to that slot.
 */
const APPLY_SUPPLY = `,
  x as (select d.mint, sum(d.delta) as delta from d join ${tk.$table} t on t.${tk.mint} = d.mint
        where t.${tk.supplySlot} is not null and d.slot > t.${tk.supplySlot} group by d.mint)
  update ${tk.$table} t set ${tk.supply} = t.${tk.supply} + x.delta from x where t.${tk.mint} = x.mint and x.delta <> 0`;

/**
 * The supply effect of writing mint and burn rows: each written row's effect, less the effect of the row it
 * replaced (a redelivered row nets to nothing; a row moved to another slot by a fork moves its effect).
 * `TRANSFERS.sql` is the token_transfers upsert; its rows are the mints and burns only. Rows replaced are looked for
 * `window` slots around the batch's (FORK_WINDOW_SLOTS), so only the partitions there are read.
 */
export function supplyWriteSql(transfersSql: string, cols: { name: string; type: string }[], window: number): string {
  const param = (name: string) => {
    const i = cols.findIndex((c) => c.name === name);
    return `$${i + 1}::${cols[i]!.type}[]`;
  };
  return `with old as (
      select t.${tt.mint} as mint, t.${tt.slot} as slot, -(${SIGNED}) as delta from ${tt.$table} t
      join unnest(${param(tt.signature)}, ${param(tt.instructionPath)}) as k(${tt.signature}, ${tt.instructionPath})
        using (${tt.signature}, ${tt.instructionPath}) where t.${tt.kind} <> 'transfer'
        and t.${tt.slot} between (select min(x) - ${window} from unnest(${param(tt.slot)}) x) and (select max(x) + ${window} from unnest(${param(tt.slot)}) x)),
    up as (${transfersSql} returning ${tt.mint}, ${tt.slot}, ${tt.kind}, ${tt.amount}),
    d as (select ${tt.mint} as mint, ${tt.slot} as slot, ${SIGNED} as delta from up union all select * from old)${APPLY_SUPPLY}`;
}

/**
 * Deletes the mint and burn rows that a transaction of the batch ($1 signatures at $2 slots) left at another slot in
 * [$3, $4] (it landed again on another fork before that slot was rolled back), and takes their effect off the supply.
 * @dev a signature twice in the batch, at two slots, keeps both rows: which one the chain keeps is not known here.
 */
export const FORKED_SUPPLY = `with up as (
    delete from ${tt.$table} t using unnest($1::text[], $2::int8[]) as k(sig, slot)
    where t.${tt.signature} = k.sig and t.${tt.slot} <> k.slot and t.${tt.slot} between $3 and $4 and t.${tt.kind} <> 'transfer'
      and not exists (select 1 from unnest($1::text[], $2::int8[]) as b(sig, slot) where b.sig = t.${tt.signature} and b.slot = t.${tt.slot})
    returning t.${tt.mint}, t.${tt.slot}, t.${tt.kind}, t.${tt.amount}),
  d as (select ${tt.mint} as mint, ${tt.slot} as slot, -(${SIGNED}) as delta from up)${APPLY_SUPPLY}`;

/** Deletes the mint and burn rows of rolled-back slots ($1) and takes their effect off the supply. */
export const ROLLBACK_SUPPLY = `with up as (
    delete from ${tt.$table} where ${tt.slot} = any($1::int8[]) and ${tt.kind} <> 'transfer'
    returning ${tt.mint}, ${tt.slot}, ${tt.kind}, ${tt.amount}),
  d as (select ${tt.mint} as mint, ${tt.slot} as slot, -(${SIGNED}) as delta from up)${APPLY_SUPPLY}`;

/**
 * A supply read on a fork that was dropped may hold its mints and burns: from the slot before the first dropped one
 * ($1) on, the supply is forgotten and read again by the token enricher.
 */
export const FORGET_FORKED_SUPPLY = `update ${tk.$table} set ${tk.supply} = null, ${tk.supplySlot} = null
  where ${tk.supplySlot} >= $1::int8 - 1`;

/**
 * Mints initialised in the batch ($1, at slot $2): 0 before that slot, plus every mint and burn stored from it on
 * (the batch's included). It replaces a supply known from a later slot, so the earliest initialisation stored wins
 * whatever order batches arrive in (a real mint is initialised once; cloned test traffic repeats it).
 */
export const INITIAL_SUPPLY = `update ${tk.$table} t set ${tk.supplySlot} = u.slot - 1,
    ${tk.supply} = coalesce((select sum(${SIGNED}) from ${tt.$table} x
      where x.${tt.mint} = u.mint and x.${tt.kind} <> 'transfer' and x.${tt.slot} >= u.slot), 0)
  from unnest($1::text[], $2::int8[]) as u(mint, slot)
  where t.${tk.mint} = u.mint and (t.${tk.supplySlot} is null or t.${tk.supplySlot} > u.slot - 1)`;

/** The supply of mint `u.mint` read at slot `u.slot` (`u.supply`), plus the mints and burns stored after that slot. */
export const READ_SUPPLY = `coalesce((select sum(${SIGNED}) from ${tt.$table} x
      where x.${tt.mint} = u.mint and x.${tt.kind} <> 'transfer' and x.${tt.slot} > u.slot), 0) + u.supply`;

/** Statements of this file, by what they write, for the store's column test. */
export const BALANCE_STATEMENTS: Readonly<Record<string, string>> = {
  token_accounts: WRITE_ACCOUNTS,
  token_account_changes: ACCOUNT_CHANGES.sql,
  wallets: WALLETS.sql,
  wallet_changes: WALLET_CHANGES.sql,
};

/** A mint's token accounts as a snapshot read them at one slot (getProgramAccounts with its context slot). */
export type TokenSnapshot = {
  mint: string;
  program: TokenAccountState["program"];
  /** the mint's decimals, when known (a tokens row the snapshot creates gets them) */
  decimals: number | null;
  /** the context slot of the read: the accounts' state after every transaction of that slot */
  slot: number;
  /** every open account of the mint at `slot` */
  accounts: { address: string; owner: string; amount: bigint }[];
};

/** The tokens row of a snapshot's mint, when none exists. */
const SEED_TOKEN = `insert into ${tk.$table} (${tk.mint}, ${tk.program}, ${tk.decimals}, ${tk.firstSeenSlot}, ${tk.updatedSlot})
  values ($1, $2, $3, $4, $4) on conflict (${tk.mint}) do nothing`;
/** A new tokens row counts the holders already stored, as the store's own new rows do (a separate statement: a CTE's
 * inserted row is not visible to its statement). */
const COUNT_HOLDERS = `update ${tk.$table} t set ${tk.holderCount} = (select count(*) from ${th.$table} h
    where h.${th.mint} = t.${tk.mint} and h.${th.amount} > 0) where t.${tk.mint} = $1`;

/**
 * A snapshot's accounts, each written where the stored row was set before the snapshot's slot (a transaction at or
 * after it already holds the same state or a later one), with holders moved by the difference.
 */
const SEED_ACCOUNTS = `with k as (select unnest($1::text[]) as ${ta.address}),
  old as (${GONE_OF("k")}),
  up as (
    ${ACCOUNTS.sql}
    where ${ta.$table}.${ta.slot} < excluded.${ta.slot}
    returning ${accountCols}),
  gone as (select o.* from old o join up on up.${ta.address} = o.${ta.address})${HOLDERS_TAIL}`;

/**
 * The mint's ($1) stored open accounts set before the snapshot's slot ($2) that the snapshot does not hold ($3): they
 * were closed by then, so they close at the snapshot's position ($4 = SNAPSHOT_TX_INDEX).
 * @dev an anti-join (a hash of the snapshot's addresses), not `<> all(...)`, which is linear per row.
 */
const SEED_CLOSE_ABSENT = `with k as (
    select a.${ta.address} from ${ta.$table} a where a.${ta.mint} = $1 and a.${ta.slot} < $2 and not a.${ta.closed}
      and not exists (select 1 from unnest($3::text[]) as s(address) where s.address = a.${ta.address})),
  old as (${GONE_OF("k")}),
  up as (
    update ${ta.$table} a set ${ta.amount} = 0, ${ta.closed} = true, ${ta.slot} = $2, ${ta.txIndex} = $4
    from k where a.${ta.address} = k.${ta.address}
    returning ${ACCOUNT_COLS.map((c) => `a.${c}`).join(", ")}),
  gone as (select o.* from old o join up on up.${ta.address} = o.${ta.address})${HOLDERS_TAIL}`;

/** The change log rows of the accounts the snapshot set (those now at its position), as a slot's last state. */
const SEED_CHANGES = `insert into ${tac.$table} (${accountCols})
  select ${accountCols} from ${ta.$table} where ${ta.mint} = $1 and ${ta.slot} = $2 and ${ta.txIndex} = $3
  on conflict (${tac.address}, ${tac.slot}) do update set
    ${[tac.txIndex, tac.mint, tac.owner, tac.program, tac.amount, tac.closed].map((c) => `${c} = excluded.${c}`).join(", ")}
    where excluded.${tac.txIndex} > ${tac.$table}.${tac.txIndex}`;

/** Accounts per seed statement (a progress step). */
export const SEED_CHUNK = 5_000;

/**
 * Seeds a mint's token accounts from a snapshot; the caller holds SHARED_ROWS_LOCK_KEY in the transaction.
 * @dev transactions after the snapshot's slot override the seed (their position is later); a row set by a transaction
 * at or after that slot is never overwritten, so the seed is idempotent and safe beside live ingest. Returns the
 * mint's accounts that hold the snapshot's state (open and closed) afterwards.
 */
export async function seedBalances(
  client: pg.PoolClient,
  s: TokenSnapshot,
  txIndex: number,
  onProgress?: (done: number, total: number) => void,
): Promise<{ seeded: number; closed: number }> {
  const inserted = await client.query(SEED_TOKEN, [s.mint, s.program, s.decimals, s.slot]);
  if (inserted.rowCount) await client.query(COUNT_HOLDERS, [s.mint]);
  const rows: TokenAccountState[] = [...s.accounts]
    .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0))
    .map((a) => ({ ...a, mint: s.mint, program: s.program, slot: s.slot, txIndex, closed: false }));
  for (let i = 0; i < rows.length; i += SEED_CHUNK) {
    const chunk = rows.slice(i, i + SEED_CHUNK);
    await dropEmptyHolders(client, await client.query(SEED_ACCOUNTS, columnParams(ACCOUNTS.cols, chunk)));
    onProgress?.(Math.min(i + SEED_CHUNK, rows.length), rows.length);
  }
  const closed = await client.query(SEED_CLOSE_ABSENT, [s.mint, s.slot, rows.map((r) => r.address), txIndex]);
  await dropEmptyHolders(client, closed);
  await client.query(SEED_CHANGES, [s.mint, s.slot, txIndex]);
  const n = await client.query<{ w: string; c: string }>(
    `select count(*) filter (where not ${ta.closed})::text as w, count(*) filter (where ${ta.closed})::text as c
     from ${ta.$table} where ${ta.mint} = $1 and ${ta.slot} = $2 and ${ta.txIndex} = $3`,
    [s.mint, s.slot, txIndex],
  );
  return { seeded: Number(n.rows[0]?.w ?? 0), closed: Number(n.rows[0]?.c ?? 0) };
}
