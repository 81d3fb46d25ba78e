/**
 * Applies pending drizzle-kit migrations under a Postgres advisory lock, so that any number of processes
 * starting at once apply each migration exactly once.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import type { Logger } from "./logger.js";

/** The repository's migrations folder. */
export const MIGRATIONS_FOLDER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../migrations");

/** @dev an arbitrary constant that identifies slotline's migration lock among advisory locks */
const MIGRATION_LOCK_KEY = 7_462_010_001;

/** What a migrate run did. */
export type MigrateResult = { applied: number; total: number; databaseCreated: boolean };

/** Creates the database named in `url` when it does not exist (connecting to the `postgres` database). */
export async function ensureDatabase(url: string): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!name) return false;
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString(), application_name: "slotline-migrate" });
  await client.connect();
  try {
    const found = await client.query("select 1 from pg_database where datname = $1", [name]);
    if (found.rowCount) return false;
    try {
      await client.query(`create database "${name.replace(/"/g, '""')}"`);
      return true;
    } catch (err) {
      // Another process created it between our check and our create.
      if ((err as { code?: string }).code === "42P04" || (err as { code?: string }).code === "23505") return false;
      throw err;
    }
  } finally {
    await client.end();
  }
}

/** Applies every pending migration; holds the advisory lock on one dedicated connection throughout. */
export async function runMigrations(
  url: string,
  opts: { logger?: Logger; migrationsFolder?: string; createDatabase?: boolean } = {},
): Promise<MigrateResult> {
  const databaseCreated = opts.createDatabase === false ? false : await ensureDatabase(url);
  const client = new pg.Client({ connectionString: url, application_name: "slotline-migrate" });
  await client.connect();
  try {
    await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    const count = async () => {
      const r = await client.query<{ n: string }>(
        "select count(*)::text as n from information_schema.tables where table_schema = 'drizzle' and table_name = '__drizzle_migrations'",
      );
      if (r.rows[0]?.n === "0") return 0;
      const applied = await client.query<{ n: string }>("select count(*)::text as n from drizzle.__drizzle_migrations");
      return Number(applied.rows[0]?.n ?? 0);
    };
    const before = await count();
    await migrate(drizzle(client), { migrationsFolder: opts.migrationsFolder ?? MIGRATIONS_FOLDER });
    const total = await count();
    const result = { applied: total - before, total, databaseCreated };
    opts.logger?.info({ applied: result.applied, total, database_created: databaseCreated }, "migrations done");
    return result;
  } finally {
    await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => {});
    await client.end();
  }
}
