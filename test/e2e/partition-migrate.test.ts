import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { MIGRATIONS_FOLDER, runMigrations } from "../../core/migrate.js";
import { type Chain, createChain } from "../../devchain/index.js";
import { runCli } from "../setup/cli.js";
import { digestTables } from "../setup/digest.js";
import { ingestEnv, query } from "../setup/ingest-env.js";
import { createTestDatabase, uniquePrefix } from "../setup/services.js";

const PARTITIONING = "0009_partition_by_slot";
const RAW = ["transactions", "token_transfers", "swaps", "liquidity_events", "program_events", "trades"];

/** The migrations folder as it was before the slot partitions: every migration up to the one that adds them. */
function migrationsBefore(tag: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "slotline-migrations-"));
  cpSync(MIGRATIONS_FOLDER, dir, { recursive: true });
  const journalPath = path.join(dir, "meta/_journal.json");
  const journal = JSON.parse(readFileSync(journalPath, "utf8")) as { entries: { tag: string }[] };
  const at = journal.entries.findIndex((e) => e.tag === tag);
  expect(at).toBeGreaterThan(0);
  for (const e of journal.entries.slice(at)) rmSync(path.join(dir, `${e.tag}.sql`));
  journal.entries = journal.entries.slice(0, at);
  writeFileSync(journalPath, JSON.stringify(journal));
  return dir;
}

/** Every column of every raw row, in key order: what the migration must carry over, bit for bit. */
async function rawDigest(url: string): Promise<Record<string, { n: number; md5: string | null }>> {
  const out: Record<string, { n: number; md5: string | null }> = {};
  for (const t of RAW) {
    const [r] = await query<{ n: number; md5: string | null }>(
      url,
      `select count(*)::int as n, md5(string_agg(x::text, E'\\n' order by x::text)) as md5 from ${t} x`,
    );
    out[t] = r!;
  }
  return out;
}

const relkind = async (url: string) =>
  Object.fromEntries(
    (
      await query<{ relname: string; relkind: string }>(
        url,
        "select relname, relkind::text from pg_class where relnamespace = 'public'::regnamespace and relname = any($1::text[])",
        [RAW],
      )
    ).map((r) => [r.relname, r.relkind]),
  );

// An unpartitioned database filled by a real backfill over the recorded blocks, migrated by `slotline migrate`:
// every row is in the partitioned tables afterwards, none lost or doubled.
describe("slotline migrate: an unpartitioned, filled database to slot partitions", () => {
  let chain: Chain;
  const drops: (() => Promise<void>)[] = [];
  let folder: string;
  beforeAll(async () => {
    chain = await createChain({ port: 0, once: true });
    folder = migrationsBefore(PARTITIONING);
  });
  afterAll(async () => {
    for (const d of drops.splice(0)) await d().catch(() => {});
    rmSync(folder, { recursive: true, force: true });
    await chain.close();
  });

  test("row counts and every table's digest are equal before and after", async () => {
    // The fill: a real backfill of every recorded slot, then its rows loaded into a database at the schema before.
    const filled = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    drops.push(filled.drop);
    const env = ingestEnv(chain, filled.url, inject("redisUrl"), uniquePrefix());
    const [first, last] = [chain.history.slots[0]!, chain.history.slots.at(-1)!];
    const r = await runCli(
      ["backfill", "--from-slot", String(first), "--to-slot", String(last), "--inline"],
      env,
      120_000,
    );
    expect(r.code, r.stderr).toBe(0);

    const old = await createTestDatabase(inject("pgAdminUrl"), null);
    drops.push(old.drop);
    await runMigrations(old.url, { migrationsFolder: folder, createDatabase: false });
    expect(Object.values(await relkind(old.url))).toEqual(RAW.map(() => "r"));
    // the tables later migrations add are not in the schema before: their rows are not part of the fill
    const tables = async (url: string) =>
      (await query<{ t: string }>(url, "select tablename as t from pg_tables where schemaname = 'public'")).map(
        (r) => r.t,
      );
    const oldTables = new Set(await tables(old.url));
    const later = (await tables(filled.url)).filter((t) => !oldTables.has(t));
    const dump = execFileSync(
      "pg_dump",
      [
        "--data-only",
        "--load-via-partition-root",
        "--schema=public",
        "--schema=slot_partitions",
        ...later.map((t) => `--exclude-table=public.${t}`),
        filled.url,
      ],
      { maxBuffer: 1 << 30 },
    );
    execFileSync("psql", ["-q", "-v", "ON_ERROR_STOP=1", old.url], { input: dump, stdio: ["pipe", "ignore", "pipe"] });

    const before = await digestTables(old.url);
    const rawBefore = await rawDigest(old.url);
    expect(before).toEqual(await digestTables(filled.url));
    expect(rawBefore.transactions!.n).toBeGreaterThan(200);
    expect(rawBefore.swaps!.n).toBeGreaterThan(0);
    expect(rawBefore.token_transfers!.n).toBeGreaterThan(0);

    const m = await runCli(["migrate"], { ...env, DATABASE_URL: old.url });
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout).toMatch(/applied \d+ migration/);

    expect(Object.values(await relkind(old.url))).toEqual(RAW.map(() => "p"));
    expect(await rawDigest(old.url)).toEqual(rawBefore);
    expect(await digestTables(old.url)).toEqual(before);
    // each row sits in its slot's partition, and the unpartitioned tables are gone
    const misplaced = await query<{ n: number }>(
      old.url,
      `select count(*)::int as n from transactions t
         where tableoid::regclass::text <> 'slot_partitions.transactions_p' || lpad((slot / slotline_partition_width())::text, 6, '0')`,
    );
    expect(misplaced[0]!.n).toBe(0);
    expect(await query(old.url, "select relname from pg_class where relname like '%\\_unpartitioned'")).toEqual([]);
    // and the migrated database goes on: the same backfill stores nothing new
    const again = await runCli(
      ["backfill", "--from-slot", String(first), "--to-slot", String(last), "--inline"],
      { ...env, DATABASE_URL: old.url },
      120_000,
    );
    expect(again.code, again.stderr).toBe(0);
    expect(await rawDigest(old.url)).toEqual(rawBefore);
  }, 300_000);
});
