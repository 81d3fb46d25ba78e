/**
 * `npm run bench:capacity [-- --url <database>]`: what a stored transaction costs on disk, measured on a dataset the
 * store filled (by default the 50x bench dataset as far as its build got: bench/dataset.ts). Per table: rows,
 * rows per stored transaction, heap bytes per row (with TOAST) and each index's bytes per row, partitions summed.
 * Then the share of mainnet's non-vote transactions that slotline stores, read from the two whole mainnet blocks of
 * the fixtures, and what that makes per day at mainnet's rate. docs/scaling.md's capacity tables are this output.
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { PRESETS, resolvePrograms, VOTE_PROGRAM_ID } from "../core/presets.js";
import { SCALE_COPIES, dataset } from "./dataset.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BLOCKS = path.resolve(ROOT, "../shared/fixtures/blocks/getBlock-json-mainnet-converted");
/** Mainnet's non-vote transactions a second: about 1,000 (override with CAPACITY_TPS). */
const MAINNET_NON_VOTE_TPS = Number(process.env.CAPACITY_TPS ?? 1_000);
const DAY = 86_400;

type Size = {
  table: string;
  /** range-partitioned on slot: grows with every stored transaction, and retention drops it */
  raw: boolean;
  rows: number;
  heap: number;
  indexes: { name: string; bytes: number }[];
};

/** Every table of `public` with its leaf partitions' heap (and TOAST) and each index's leaves summed. */
async function sizes(c: pg.Client): Promise<Size[]> {
  const tables = await c.query<{ table: string; raw: boolean; heap: string }>(
    `select c.relname as table, c.relkind = 'p' as raw,
       (case when c.relkind = 'p'
         then (select coalesce(sum(pg_table_size(t.relid)), 0) from pg_partition_tree(c.oid) t where t.isleaf)
         else pg_table_size(c.oid) end)::text as heap
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition order by 1`,
  );
  const out: Size[] = [];
  for (const t of tables.rows) {
    const rows = Number((await c.query<{ n: string }>(`select count(*)::text as n from "${t.table}"`)).rows[0]!.n);
    const idx = await c.query<{ name: string; bytes: string }>(
      `select i.relname as name,
         (case when i.relkind = 'I'
         then (select coalesce(sum(pg_relation_size(p.relid)), 0) from pg_partition_tree(i.oid) p where p.isleaf)
         else pg_relation_size(i.oid) end)::text as bytes
       from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class c on c.oid = x.indrelid
       join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relname = $1 order by 1`,
      [t.table],
    );
    out.push({
      table: t.table,
      raw: t.raw,
      rows,
      heap: Number(t.heap),
      indexes: idx.rows.map((r) => ({ name: r.name, bytes: Number(r.bytes) })),
    });
  }
  return out;
}

/** Of the mainnet blocks' non-vote transactions: how many invoke a program of `programs`. */
function shareOf(programs: Set<string>): { nonVote: number; tracked: number } {
  let nonVote = 0;
  let tracked = 0;
  for (const f of readdirSync(BLOCKS).filter((x) => x.endsWith(".json"))) {
    const raw = JSON.parse(readFileSync(path.join(BLOCKS, f), "utf8"));
    for (const tx of (raw.result ?? raw).transactions) {
      const msg = tx.transaction.message;
      const keys: string[] = [
        ...msg.accountKeys.map((k: string | { pubkey: string }) => (typeof k === "string" ? k : k.pubkey)),
        ...(tx.meta?.loadedAddresses?.writable ?? []),
        ...(tx.meta?.loadedAddresses?.readonly ?? []),
      ];
      const invoked = new Set<string>();
      for (const ix of msg.instructions) invoked.add(keys[ix.programIdIndex]!);
      for (const inner of tx.meta?.innerInstructions ?? [])
        for (const ix of inner.instructions) invoked.add(keys[ix.programIdIndex]!);
      if (invoked.has(VOTE_PROGRAM_ID)) continue;
      nonVote++;
      if ([...invoked].some((p) => programs.has(p))) tracked++;
    }
  }
  return { nonVote, tracked };
}

const mb = (b: number) => (b / 2 ** 20).toFixed(0);
const per = (bytes: number, rows: number) => (rows ? Math.round(bytes / rows) : 0);

async function main() {
  const args = process.argv.slice(2);
  let url = args.includes("--url") ? args[args.indexOf("--url") + 1]! : undefined;
  let label = url ?? "";
  if (!url) {
    const d = await dataset(SCALE_COPIES, () => {}, { asIs: true });
    url = d.url;
    label = `${d.name}: ${d.copies} of ${SCALE_COPIES} copies${d.complete ? "" : " (as far as its build got)"}`;
  }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const all = await sizes(c);
  await c.end();
  const txs = all.find((t) => t.table === "transactions")?.rows ?? 0;
  console.log(`# capacity: ${label}, ${txs.toLocaleString("en-US")} stored transactions\n`);
  console.log("| table | rows | rows per stored tx | heap B/row | indexes (B/row each) | total B/row | total MB |");
  console.log("|---|---:|---:|---:|---|---:|---:|");
  let perTx = 0;
  let rawPerTx = 0;
  for (const t of all.filter((x) => x.rows > 0).sort((a, b) => b.heap - a.heap)) {
    const total = t.heap + t.indexes.reduce((a, i) => a + i.bytes, 0);
    perTx += txs ? total / txs : 0;
    if (t.raw) rawPerTx += txs ? total / txs : 0;
    const idx = t.indexes.map((i) => `${i.name.replace(`${t.table}_`, "")} ${per(i.bytes, t.rows)}`).join(", ");
    console.log(
      `| \`${t.table}\` | ${t.rows.toLocaleString("en-US")} | ${(t.rows / txs).toFixed(2)} | ${per(t.heap, t.rows)} | ${idx} | ${per(total, t.rows)} | ${mb(total)} |`,
    );
  }
  console.log(
    `\nall tables: ${Math.round(perTx).toLocaleString("en-US")} bytes per stored transaction; the raw (slot-partitioned) tables: ${Math.round(rawPerTx).toLocaleString("en-US")}\n`,
  );

  const dex = new Set(
    resolvePrograms(PRESETS.filter((p) => !p.name.startsWith("token") && p.name !== "spl-token").map((p) => p.name)),
  );
  const everything = new Set(resolvePrograms(PRESETS.map((p) => p.name)));
  console.log(
    `at ${MAINNET_NON_VOTE_TPS.toLocaleString("en-US")} non-vote tx/s (CAPACITY_TPS), from the two mainnet blocks' shares:\n`,
  );
  console.log(
    "| programs | share of non-vote tx | stored tx per day | raw rows' GB per day | GB per 432,000 slots (a partition) |",
  );
  console.log("|---|---:|---:|---:|---:|");
  for (const [name, set] of [
    ["default (every preset: tokens and DEXes)", everything],
    ["DEXes and Jupiter only (no token presets)", dex],
  ] as const) {
    const s = shareOf(set);
    const perDay = (MAINNET_NON_VOTE_TPS * DAY * s.tracked) / s.nonVote;
    // the raw rows grow with every transaction; balances and holders grow with new accounts, and the change logs
    // are pruned once finalized (docs/scaling.md)
    const gb = (perDay * rawPerTx) / 1e9;
    // a partition spans 432,000 slots, about 2 days at 400 ms a slot
    console.log(
      `| ${name} | ${s.tracked}/${s.nonVote} (${((100 * s.tracked) / s.nonVote).toFixed(0)}%) | ${Math.round(perDay).toLocaleString("en-US")} | ${gb.toFixed(0)} | ${((gb * 432_000 * 0.4) / DAY).toFixed(0)} |`,
    );
  }
}

await main();
