import { readdirSync } from "node:fs";
import pg from "pg";
import { afterEach, describe, expect, inject, test } from "vitest";
import { MIGRATIONS_FOLDER } from "../../indexer/migrate.js";
import { runCli } from "../setup/cli.js";
import { createTestDatabase } from "../setup/services.js";

const TABLES = ["cursors", "dead_letters", "liquidity_events", "passed_signatures", "pools", "program_events", "slot_changes", "slots", "swaps", "token_transfers", "tokens", "transactions"];
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

  test("on an empty database creates every table; a second run applies nothing", async () => {
    const db = await createTestDatabase(inject("pgAdminUrl"), null);
    drop = db.drop;
    const first = await runCli(["migrate"], { DATABASE_URL: db.url });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`applied ${MIGRATION_COUNT} migration`));
    const tables = await query<{ table_name: string }>(db.url, "select table_name from information_schema.tables where table_schema = 'public' order by 1");
    expect(tables.map((t) => t.table_name)).toEqual(TABLES);

    const second = await runCli(["migrate"], { DATABASE_URL: db.url });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/nothing to apply/);
    const applied = await query<{ n: number }>(db.url, "select count(*)::int as n from drizzle.__drizzle_migrations");
    expect(applied[0]?.n).toBe(MIGRATION_COUNT);
  });

  test("three processes started at once apply each migration exactly once", async () => {
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

  test("creates the database when it does not exist", async () => {
    const admin = inject("pgAdminUrl");
    const name = `slotline_t_create_${Date.now()}`;
    const url = new URL(admin);
    url.pathname = `/${name}`;
    drop = async () => void (await query(admin, `drop database if exists ${name} with (force)`));
    const r = await runCli(["migrate"], { DATABASE_URL: url.toString() });
    expect(r.code, r.stderr).toBe(0);
    expect(await query(url.toString(), "select 1 from transactions limit 1")).toEqual([]);
  });
});
