/**
 * The API bench's datasets: the two whole mainnet blocks, decoded as the worker decodes them, stored again and again
 * at later slots through the indexer's own store, with their wallets and token accounts relabelled so that the
 * balances tables grow as a busy chain's do. Each dataset is a Postgres database named by its version (its copies,
 * the relabelling and the migrations), built once per machine and kept: a build that stops resumes where it stopped.
 *
 * `npm run bench:dataset -- [--copies N]` builds one (the 50x dataset by default) and prints its build time and the
 * size of each table; `--drop` drops every cached dataset.
 */
import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { runMigrations } from "../core/migrate.js";
import type { DecodedBlock } from "../indexer/decode/index.js";
import { accountFields, relabelAccounts, shiftBlock } from "./relabel.js";
import { BENCH_PG_ADMIN_URL } from "./services.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BLOCKS = path.resolve(ROOT, "../shared/fixtures/blocks/getBlock-json-mainnet-converted");

/** Bump when what a copy holds changes (the relabelling, the shifts): every cached dataset is then built again. */
const DATASET_VERSION = 1;
/** Today's size: the two blocks stored 150 times (~78,000 transactions). */
export const BASE_COPIES = 150;
/**
 * The 50x dataset: 8,200 copies of the two blocks' 520 transactions, 4,264,000 transactions (55x today's), the copies
 * it takes for the hot mint to pass 500,000 holders.
 */
export const SCALE_COPIES = 8_200;
/** Copies stored per store call (one database transaction): the fewer calls, the fewer round trips per copy. */
const COPIES_PER_WRITE = 40;
/**
 * The mint whose holders grow with every copy: USDC, held with a positive balance after the two blocks by 62 owners that are
 * relabelled (wrapped SOL has more, but nearly every owner in the blocks holds it). Its token accounts, their owners
 * and every other token account of those owners (128 in all) are new in every copy: 62 x 8,200 = 508,400 holders and
 * 1.05 million token accounts at 50x.
 */
export const HOT_MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
/**
 * Every other wallet and token account repeats with this period: copy j names them as copy j mod CYCLE does (later
 * transactions of the same accounts), so the other 491 token accounts add 49,100, not 4 million.
 */
const CYCLE = 100;

/** The addresses the questions ask about, read from the two blocks; none of them is relabelled. */
export type DatasetSubjects = {
  /** the second most transferred mint (the token page, as the API bench picks it) */
  mint: string;
  /** the pool with the most swaps */
  pool: string;
  /** the trader with the most swaps (the wallet's swaps page) */
  wallet: string;
  /** the signer that holds the most mints with a positive balance (the portfolio page) */
  portfolio: string;
  /** the mint with the most holders at scale */
  hotMint: string;
};

/** The two whole mainnet blocks, decoded as the worker decodes them. */
export async function decodedBlocks(): Promise<DecodedBlock[]> {
  const { createDecoder } = await import("../indexer/decode/index.js");
  const { PRESET_NAMES } = await import("../core/presets.js");
  const decoder = createDecoder({ programs: [...PRESET_NAMES] });
  return readdirSync(BLOCKS)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => {
      const raw = JSON.parse(readFileSync(path.join(BLOCKS, f), "utf8"));
      return decoder.decodeBlock(raw.result ?? raw, Number(/(\d{6,})/.exec(f)![1]));
    });
}

/** The key with the largest count, ties to the smallest key (so the pick never depends on iteration order). */
function top(counts: Map<string, number>, rank = 0): string {
  const sorted = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const pick = sorted[rank];
  if (!pick) throw new Error("the blocks hold too few rows to pick the bench's subjects from");
  return pick[0];
}

const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

/** How the copies name an account: as the blocks do, anew in every copy, or anew in every copy modulo CYCLE. */
type AccountKind = "kept" | "fresh" | "cyclic";

/** The subjects, and how copy j renames each account (kept, new in every copy, or repeating every CYCLE copies). */
export function planOf(blocks: DecodedBlock[]): {
  subjects: DatasetSubjects;
  kindOf: (address: string) => AccountKind;
  rename: (j: number) => (address: string) => string;
} {
  const txs = blocks.flatMap((b) => b.transactions);
  const transfers = new Map<string, number>();
  const pools = new Map<string, number>();
  const traders = new Map<string, number>();
  for (const t of txs) {
    for (const r of t.transfers) bump(transfers, r.mint);
    for (const s of t.swaps) {
      bump(pools, s.pool);
      bump(traders, s.trader);
    }
  }
  // each account's last state in the blocks: who holds what after them
  const last = new Map<string, { mint: string; owner: string | null; amount: bigint }>();
  for (const t of txs) for (const a of t.tokenAccounts) last.set(a.address, a);
  const signers = new Set(txs.flatMap((t) => t.wallets.map((w) => w.address)));
  const heldMints = new Map<string, Set<string>>();
  for (const a of last.values())
    if (a.owner && a.amount > 0n && signers.has(a.owner))
      heldMints.set(a.owner, (heldMints.get(a.owner) ?? new Set()).add(a.mint));
  const subjects: DatasetSubjects = {
    mint: top(transfers, 1),
    pool: top(pools),
    wallet: top(traders),
    portfolio: top(new Map([...heldMints].map(([o, m]) => [o, m.size]))),
    hotMint: HOT_MINT,
  };
  if (![...last.values()].some((a) => a.mint === HOT_MINT)) throw new Error(`no token account of ${HOT_MINT}`);
  // kept: the subjects' wallets and their token accounts, and the pools' vaults (a pool keeps its vaults)
  const kept = new Set<string>([subjects.wallet, subjects.portfolio]);
  for (const t of txs) for (const p of t.pools) for (const v of [p.vaultA, p.vaultB]) if (v) kept.add(v);
  for (const [address, a] of last) if (a.owner && kept.has(a.owner)) kept.add(address);
  // new in every copy: the hot mint's holders, their token accounts (of every mint) and the hot mint's accounts
  const fresh = new Set<string>();
  for (const [address, a] of last)
    if (a.mint === HOT_MINT && !kept.has(address)) {
      fresh.add(address);
      if (a.owner && !kept.has(a.owner)) fresh.add(a.owner);
    }
  for (const [address, a] of last) if (a.owner && fresh.has(a.owner) && !kept.has(address)) fresh.add(address);
  const kindOf = (address: string): AccountKind =>
    kept.has(address) ? "kept" : fresh.has(address) ? "fresh" : "cyclic";
  const label = (address: string, j: number) => {
    const k = kindOf(address);
    return k === "kept" ? address : k === "fresh" ? `${address}.${j}` : `${address}:${j % CYCLE}`;
  };
  return { subjects, kindOf, rename: (j) => (address) => label(address, j) };
}

/**
 * Copy j of the blocks: 100*j slots and 40*j seconds later, with distinct signatures (one pool accumulates j x its
 * swaps), and its accounts renamed by `rename(j)` when given.
 */
export function copyOf(
  blocks: DecodedBlock[],
  j: number,
  rename?: (j: number) => (address: string) => string,
): DecodedBlock[] {
  return blocks.map((b) => {
    const c = structuredClone(b);
    shiftBlock(c, 100 * j, 40_000 * j, (_k, old) => `${old}${j}`);
    if (rename) relabelAccounts(c, rename(j));
    return c;
  });
}

/**
 * Copies of the blocks made by moving reused ones: `copy(j, w)` turns working copy `w` (of `working`) into copy j,
 * equal to `copyOf(blocks, j, rename)`: shifted from the copy it held, each account field set to its original
 * address's label in copy j.
 * @dev a structured clone of the two blocks, and renaming field by field, cost more than the store's own work for
 * them; the build makes each of its working copies, and the list of their account fields, once. A copy handed to the
 * store must not be moved again before the store is done with it.
 */
export function copier(
  blocks: DecodedBlock[],
  kindOf: (address: string) => AccountKind,
  working: number,
): (j: number, w: number) => DecodedBlock[] {
  const signatures = blocks.map((b) => b.transactions.map((t) => t.transaction.signature));
  const work = Array.from({ length: working }, () => {
    const copy = structuredClone(blocks);
    const fields = copy.flatMap((b) =>
      accountFields(b).flatMap(([row, key]) => {
        const a = row[key];
        return typeof a === "string" ? [{ row, key, address: a, kind: kindOf(a) }] : [];
      }),
    );
    return { j: 0, blocks: copy, fields };
  });
  return (j, w) => {
    const c = work[w]!;
    const d = j - c.j;
    c.blocks.forEach((b, i) => shiftBlock(b, 100 * d, 40_000 * d, (k) => `${signatures[i]![k]}${j}`));
    const cycle = `:${j % CYCLE}`;
    const fresh = `.${j}`;
    for (const f of c.fields)
      f.row[f.key] = f.kind === "kept" ? f.address : f.address + (f.kind === "fresh" ? fresh : cycle);
    c.j = j;
    return c.blocks;
  };
}

/** A cached dataset: its database, what it holds and how long it took to build. */
export type Dataset = {
  name: string;
  url: string;
  /** copies stored: all of them once complete */
  copies: number;
  complete: boolean;
  subjects: DatasetSubjects;
  /** wall-clock seconds of the build, over every sitting it took */
  buildSeconds: number;
  transactions: number;
};

/** The marker a dataset's database carries (its comment): how far the build got, and when done what it took. */
type Marker = { next: number; seconds: number; complete: boolean; transactions?: number };

/** The dataset's version: its copies, DATASET_VERSION, the relabelling's period and the migrations it was built on. */
function versionOf(copies: number): string {
  const h = createHash("sha256").update(`${DATASET_VERSION}/${CYCLE}/${HOT_MINT}/${copies}`);
  const folder = path.join(ROOT, "migrations");
  for (const f of readdirSync(folder)
    .filter((x) => x.endsWith(".sql"))
    .sort())
    h.update(f).update(readFileSync(path.join(folder, f)));
  return h.digest("hex").slice(0, 10);
}

/** @dev an arbitrary constant naming the dataset build's advisory lock (taken in the dataset's own database) */
const DATASET_LOCK_KEY = 7_462_010_050;

const prefixOf = (copies: number) => `slotline_bench_ds${copies}_`;

function urlOf(name: string): string {
  const u = new URL(BENCH_PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(work: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: BENCH_PG_ADMIN_URL });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

async function readMarker(c: pg.Client, name: string): Promise<Marker | null | undefined> {
  const r = await c.query<{ comment: string | null }>(
    "select shobj_description(oid, 'pg_database') as comment from pg_database where datname = $1",
    [name],
  );
  if (r.rowCount === 0) return undefined; // no database
  try {
    return JSON.parse(r.rows[0]!.comment ?? "") as Marker;
  } catch {
    return null; // a database without a marker: not one this module made
  }
}

async function writeMarker(c: pg.Client, name: string, m: Marker): Promise<void> {
  await c.query(`comment on database ${name} is '${JSON.stringify(m)}'`);
}

/**
 * The dataset of `copies` copies, built (or its build resumed) if this machine does not hold it complete yet; one
 * process builds it at a time (the others wait for it). `log` hears the build's progress. With `asIs`, nothing is
 * built: the dataset as far as its build got (`copies` and `complete` say how far).
 */
export async function dataset(
  copies: number,
  log: (line: string) => void = () => {},
  opts: { asIs?: boolean } = {},
): Promise<Dataset> {
  const name = `${prefixOf(copies)}${versionOf(copies)}`;
  const url = urlOf(name);
  const blocks = await decodedBlocks();
  const plan = planOf(blocks);
  let marker = await admin(async (c) => {
    const m = await readMarker(c, name);
    if (opts.asIs) {
      if (!m) throw new Error(`no dataset ${name} on this machine: build it with npm run bench:dataset`);
      return m;
    }
    // datasets of the same size at older versions are never read again
    const stale = await c.query<{ datname: string }>(
      "select datname from pg_database where datname like $1 and datname <> $2",
      [`${prefixOf(copies)}%`, name],
    );
    for (const { datname } of stale.rows) await c.query(`drop database if exists ${datname} with (force)`);
    if (m === null) await c.query(`drop database if exists ${name} with (force)`);
    if (!m) {
      await c.query(`create database ${name}`);
      await writeMarker(c, name, { next: 0, seconds: 0, complete: false });
    }
    return m ?? { next: 0, seconds: 0, complete: false };
  });
  if (!marker.complete && !opts.asIs) {
    const lock = new pg.Client({ connectionString: url });
    await lock.connect();
    try {
      // a session lock on the dataset's own database: a second builder waits, then finds it built
      await lock.query("select pg_advisory_lock($1)", [DATASET_LOCK_KEY]);
      marker = (await admin((c) => readMarker(c, name)))!;
      if (!marker.complete) marker = await build(name, url, copies, blocks, plan.kindOf, marker, log);
    } finally {
      await lock.end();
    }
  }
  let transactions = marker.transactions;
  if (transactions === undefined) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    // a build that stopped has not analyzed its tables yet: the planner would read them as empty
    await c.query("analyze");
    transactions = Number((await c.query<{ n: string }>("select count(*)::text as n from transactions")).rows[0]!.n);
    await c.end();
  }
  return {
    name,
    url,
    copies: marker.next,
    complete: marker.complete,
    subjects: plan.subjects,
    buildSeconds: marker.seconds,
    transactions,
  };
}

async function build(
  name: string,
  url: string,
  copies: number,
  blocks: DecodedBlock[],
  kindOf: (address: string) => AccountKind,
  from: Marker,
  log: (line: string) => void,
): Promise<Marker> {
  const { createDb } = await import("../core/db.js");
  const { createStore } = await import("../indexer/store/index.js");
  await runMigrations(url, { createDatabase: false });
  const db = createDb(url, { max: 2 });
  const store = createStore({ db });
  const marker = { ...from };
  const perCopy = blocks.reduce((a, b) => a + b.transactions.length, 0);
  log(`dataset ${name}: ${copies} copies of ${perCopy} transactions, from copy ${from.next}`);
  const sitting = performance.now();
  // two batches' working copies: one batch is made while the store writes the other
  const copy = copier(blocks, kindOf, 2 * COPIES_PER_WRITE);
  const batchOf = (k: number) => {
    const batch: DecodedBlock[] = [];
    for (let j = k; j < Math.min(copies, k + COPIES_PER_WRITE); j++) batch.push(...copy(j, j % (2 * COPIES_PER_WRITE)));
    return batch;
  };
  try {
    let next = batchOf(marker.next);
    let lastLog = performance.now();
    for (let k = marker.next; k < copies; k += COPIES_PER_WRITE) {
      // the next batch is relabelled while Postgres stores this one
      const written = store.writeBlocks(next, { commitment: "confirmed" });
      const after = k + COPIES_PER_WRITE < copies ? batchOf(k + COPIES_PER_WRITE) : [];
      await written;
      next = after;
      marker.next = Math.min(copies, k + COPIES_PER_WRITE);
      marker.seconds = from.seconds + (performance.now() - sitting) / 1000;
      await admin((c) => writeMarker(c, name, marker));
      if (performance.now() - lastLog > 30_000 || marker.next === copies) {
        lastLog = performance.now();
        const rate = ((marker.next - from.next) * perCopy) / ((performance.now() - sitting) / 1000);
        log(
          `  ${marker.next}/${copies} copies (${(marker.next * perCopy).toLocaleString("en-US")} tx), ${Math.round(rate)} tx/s this sitting, ${Math.round(marker.seconds)} s in all`,
        );
      }
    }
    const t = performance.now();
    await db.$client.query("vacuum analyze");
    log(`  vacuum analyze: ${Math.round((performance.now() - t) / 1000)} s`);
    marker.transactions = Number(
      (await db.$client.query<{ n: string }>("select count(*)::text as n from transactions")).rows[0]!.n,
    );
    marker.seconds = from.seconds + (performance.now() - sitting) / 1000;
    marker.complete = true;
    await admin((c) => writeMarker(c, name, marker));
    return marker;
  } finally {
    await db.$client.end();
  }
}

/** Rows and on-disk size (table, indexes and TOAST: pg_total_relation_size) of each table, largest first. */
export async function tableSizes(url: string): Promise<{ table: string; rows: number; bytes: number }[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ table: string; rows: string; bytes: string }>(
      `select c.relname as table, c.reltuples::bigint::text as rows, pg_total_relation_size(c.oid)::text as bytes
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind in ('r', 'p') order by pg_total_relation_size(c.oid) desc`,
    );
    return r.rows.map((x) => ({ table: x.table, rows: Math.max(0, Number(x.rows)), bytes: Number(x.bytes) }));
  } finally {
    await c.end();
  }
}

/** The figures a dataset is described by: rows exact for the tables the questions read. */
export async function describe(d: Dataset): Promise<Record<string, string | number>> {
  const c = new pg.Client({ connectionString: d.url });
  await c.connect();
  const count = async (q: string) => Number((await c.query<{ n: string }>(q)).rows[0]!.n);
  const out: Record<string, string | number> = {
    dataset: d.name,
    copies: d.copies,
    complete: String(d.complete),
    build_seconds: Math.round(d.buildSeconds),
    transactions: d.transactions,
    token_accounts: await count("select count(*)::text as n from token_accounts"),
    hot_mint_holders: await count(
      `select holder_count::text as n from tokens where mint = '${d.subjects.hotMint.replace(/'/g, "")}'`,
    ),
    database_bytes: await count(`select pg_database_size(current_database())::text as n`),
  };
  await c.end();
  for (const t of await tableSizes(d.url))
    out[`${t.table} (rows ~, MB)`] = `${t.rows}, ${Math.round(t.bytes / 2 ** 20)}`;
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  if (args.includes("--drop")) {
    await admin(async (c) => {
      const r = await c.query<{ datname: string }>(
        "select datname from pg_database where datname like 'slotline_bench_ds%'",
      );
      for (const { datname } of r.rows) await c.query(`drop database if exists ${datname} with (force)`);
      console.log(`dropped ${r.rowCount} dataset(s)`);
    });
  } else {
    const copies = args.includes("--copies") ? Number(args[args.indexOf("--copies") + 1]) : SCALE_COPIES;
    const d = await dataset(copies, (line) => console.log(line));
    console.log(await describe(d));
  }
}
