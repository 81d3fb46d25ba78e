import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterEach, describe, expect, inject, test } from "vitest";
import { MigrationOrderError, MIGRATIONS_FOLDER, runMigrations } from "../../core/migrate.js";
import { runCli } from "../setup/cli.js";
import { createTestDatabase } from "../setup/services.js";

const TABLES = [
  "cursors",
  "dead_letters",
  "liquidity_events",
  "market_rankings",
  "market_stats",
  "market_traders",
  "passed_signatures",
  "pool_candles",
  "pool_tvl",
  "pools",
  "program_events",
  "slot_changes",
  "slots",
  "swaps",
  "token_account_changes",
  "token_accounts",
  "token_holders",
  "token_prices",
  "token_transfers",
  "tokens",
  "trades",
  "transactions",
  "wallet_changes",
  "wallet_pnl",
  "wallets",
];
const MIGRATION_COUNT = readdirSync(MIGRATIONS_FOLDER).filter((f) => f.endsWith(".sql")).length;

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

describe("slotline migrate", () => {
  let drop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await drop?.();
    drop = undefined;
  });

  test("on an empty database creates every table; a second run applies nothing", { timeout: 60_000 }, async () => {
    const db = await createTestDatabase(inject("pgAdminUrl"), null);
    drop = db.drop;
    const first = await runCli(["migrate"], { DATABASE_URL: db.url });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`applied ${MIGRATION_COUNT} migration`));
    const tables = await query<{ table_name: string }>(
      db.url,
      "select table_name from information_schema.tables where table_schema = 'public' order by 1",
    );
    expect(tables.map((t) => t.table_name)).toEqual(TABLES);

    const second = await runCli(["migrate"], { DATABASE_URL: db.url });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/nothing to apply/);
    const applied = await query<{ n: number }>(db.url, "select count(*)::int as n from drizzle.__drizzle_migrations");
    expect(applied[0]?.n).toBe(MIGRATION_COUNT);
  });

  test("three processes started at once apply each migration exactly once", { timeout: 60_000 }, async () => {
    const db = await createTestDatabase(inject("pgAdminUrl"), null);
    drop = db.drop;
    const runs = await Promise.all([1, 2, 3].map(() => runCli(["migrate"], { DATABASE_URL: db.url })));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    // Exactly one process applied the migrations; the other two found nothing to do.
    expect(runs.filter((r) => /applied \d+ migration/.test(r.stdout))).toHaveLength(1);
    expect(runs.filter((r) => /nothing to apply/.test(r.stdout))).toHaveLength(2);
    const rows = await query<{ hash: string }>(db.url, "select hash from drizzle.__drizzle_migrations");
    expect(rows).toHaveLength(MIGRATION_COUNT);
    expect(new Set(rows.map((r) => r.hash)).size).toBe(MIGRATION_COUNT);
  });

  test("creates the database when it does not exist", { timeout: 60_000 }, async () => {
    const admin = inject("pgAdminUrl");
    const name = `slotline_t_create_${Date.now()}`;
    const url = new URL(admin);
    url.pathname = `/${name}`;
    drop = async () => void (await query(admin, `drop database if exists ${name} with (force)`));
    const r = await runCli(["migrate"], { DATABASE_URL: url.toString() });
    expect(r.code, r.stderr).toBe(0);
    expect(await query(url.toString(), "select 1 from transactions limit 1")).toEqual([]);
  });

  /** The schema as pg_dump prints it (definitions only). */
  async function schemaDump(url: string, schema?: string): Promise<string> {
    const args = ["--schema-only", "--no-owner", "--no-privileges", ...(schema ? [`--schema=${schema}`] : []), url];
    const { stdout } = await promisify(execFile)("pg_dump", args, { maxBuffer: 64 * 1024 * 1024 });
    // pg_dump 15.14+ brackets its output with a random \\restrict token.
    return stdout
      .split("\n")
      .filter((l) => !/^\\(un)?restrict /.test(l))
      .join("\n");
  }

  /** A copy of the migrations folder with one more migration `tag` (journal timestamp `when`). */
  function withExtraMigration(tag: string, sql: string, when: number): string {
    const dir = mkdtempSync(path.join(tmpdir(), "slotline-migrations-"));
    cpSync(MIGRATIONS_FOLDER, dir, { recursive: true });
    writeFileSync(path.join(dir, `${tag}.sql`), sql);
    const journalPath = path.join(dir, "meta/_journal.json");
    const journal = JSON.parse(readFileSync(journalPath, "utf8")) as {
      entries: { idx: number; when: number; tag: string }[];
    };
    journal.entries.push({ ...journal.entries.at(-1)!, idx: journal.entries.length, when, tag });
    writeFileSync(journalPath, JSON.stringify(journal, null, 2));
    return dir;
  }

  test("a failing last migration rejects and leaves the schema exactly as it was (nothing of it half applied)", async () => {
    const db = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    drop = db.drop;
    const folder = withExtraMigration(
      "9999_broken",
      "CREATE TABLE half_done (id int);\n--> statement-breakpoint\nALTER TABLE transactions ADD COLUMN oops int;\n--> statement-breakpoint\nSELEC 1;\n",
      Date.now(),
    );
    try {
      const before = await schemaDump(db.url);
      await expect(runMigrations(db.url, { migrationsFolder: folder, createDatabase: false })).rejects.toThrow(
        /migration failed, none applied: syntax error at or near "SELEC"/,
      );
      expect(await schemaDump(db.url)).toBe(before);
      expect(
        (await query<{ n: number }>(db.url, "select count(*)::int as n from drizzle.__drizzle_migrations"))[0]?.n,
      ).toBe(MIGRATION_COUNT);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  test("a migration older than the last applied one fails loudly instead of being skipped", async () => {
    const db = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    drop = db.drop;
    const folder = withExtraMigration("0000_early", "CREATE TABLE early (id int);\n", 1_000_000_000_000);
    try {
      const before = await schemaDump(db.url);
      const err = await runMigrations(db.url, { migrationsFolder: folder, createDatabase: false }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(MigrationOrderError);
      expect((err as Error).message).toMatch(
        /0000_early is not applied but is not newer than the last applied migration/,
      );
      expect(await schemaDump(db.url)).toBe(before);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  test("slotline migrate exits non-zero when a migration fails, and the public schema is left as it was", {
    timeout: 60_000,
  }, async () => {
    const db = await createTestDatabase(inject("pgAdminUrl"), null);
    drop = db.drop;
    // A table in the way of 0000_init: its CREATE TABLE fails part-way through the migration.
    await query(db.url, "create table slots (x int)");
    // drizzle creates its own journal table before its transaction; the application schema is what must not move.
    const dumpPublic = () => schemaDump(db.url, "public");
    const before = await dumpPublic();
    const r = await runCli(["migrate"], { DATABASE_URL: db.url });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/error: migration failed, none applied: relation "slots" already exists/);
    expect(await dumpPublic()).toBe(before);
    expect(
      (await query<{ n: number }>(db.url, "select count(*)::int as n from drizzle.__drizzle_migrations"))[0]?.n,
    ).toBe(0);
  });
});
