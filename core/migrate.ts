/**
 * Applies pending drizzle-kit migrations under a Postgres advisory lock, so that any number of processes
 * starting at once apply each migration exactly once.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import type { Logger } from "./logger.js";
import { PROJECT_ROOT } from "./paths.js";
import { ensureReadRole, type ReadRole } from "./read-role.js";

/** The repository's migrations folder. */
export const MIGRATIONS_FOLDER = path.join(PROJECT_ROOT, "migrations");

/** @dev an arbitrary constant that identifies slotline's migration lock among advisory locks */
const MIGRATION_LOCK_KEY = 7_462_010_001;

/** A migration drizzle would skip silently: not applied, yet not newer than the last applied one. */
export class MigrationOrderError extends Error {
  override name = "MigrationOrderError";
}

/** Journal entries of a migrations folder, with the hash drizzle records for each (sha256 of the file). */
function journal(folder: string): { tag: string; when: number; hash: string }[] {
  const j = JSON.parse(readFileSync(path.join(folder, "meta/_journal.json"), "utf8")) as {
    entries: { tag: string; when: number }[];
  };
  return j.entries.map((e) => ({
    tag: e.tag,
    when: e.when,
    hash: createHash("sha256")
      .update(readFileSync(path.join(folder, `${e.tag}.sql`)))
      .digest("hex"),
  }));
}

/**
 * @dev drizzle's migrate() applies a migration only when its folder timestamp is newer than the last applied one,
 * so one merged out of order (or a file edited after it was applied) would be skipped without a word.
 */
async function checkOrder(client: pg.Client, folder: string): Promise<void> {
  const exists = await client.query(
    "select 1 from information_schema.tables where table_schema = 'drizzle' and table_name = '__drizzle_migrations'",
  );
  if (!exists.rowCount) return;
  const applied = await client.query<{ hash: string; created_at: string }>(
    "select hash, created_at::text from drizzle.__drizzle_migrations",
  );
  if (applied.rowCount === 0) return;
  const hashes = new Set(applied.rows.map((r) => r.hash));
  const last = Math.max(...applied.rows.map((r) => Number(r.created_at)));
  const skipped = journal(folder).filter((m) => !hashes.has(m.hash) && m.when <= last);
  if (skipped.length)
    throw new MigrationOrderError(
      `migration ${skipped.map((m) => m.tag).join(", ")} is not applied but is not newer than the last applied migration ` +
        `(${new Date(last).toISOString()}): it was merged out of order or edited after it was applied. Regenerate it with a new timestamp ` +
        `(npm run db:generate) instead of editing an applied one; nothing was changed`,
    );
}

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
  // ended by the server between queries (a restart): the next query fails with it instead of crashing the process
  client.on("error", () => {});
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

/**
 * Applies every pending migration, then (with `readRole`) creates or resets the API's read-only role; holds the
 * advisory lock on one dedicated connection throughout.
 */
export async function runMigrations(
  url: string,
  opts: { logger?: Logger; migrationsFolder?: string; createDatabase?: boolean; readRole?: ReadRole | null } = {},
): Promise<MigrateResult> {
  const databaseCreated = opts.createDatabase === false ? false : await ensureDatabase(url);
  const client = new pg.Client({ connectionString: url, application_name: "slotline-migrate" });
  // A lost connection surfaces as the failing query's error, not as an uncaught 'error' event.
  client.on("error", () => {});
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
    const folder = opts.migrationsFolder ?? MIGRATIONS_FOLDER;
    await checkOrder(client, folder);
    const before = await count();
    // drizzle applies every pending migration in one transaction: a failing one leaves the schema as it was.
    await migrate(drizzle(client), { migrationsFolder: folder }).catch((err: Error) => {
      // drizzle's error names only the statement; the reason is in its cause.
      const reason = (err.cause as Error | undefined)?.message;
      throw new Error(`migration failed, none applied${reason ? `: ${reason}` : ""}\n${err.message}`, { cause: err });
    });
    const total = await count();
    // after the migrations, so the grant covers every table they created
    if (opts.readRole) {
      await ensureReadRole(client, opts.readRole);
      opts.logger?.info({ role: opts.readRole.name }, "read-only role ready");
    }
    const result = { applied: total - before, total, databaseCreated };
    opts.logger?.info({ applied: result.applied, total, database_created: databaseCreated }, "migrations done");
    return result;
  } finally {
    await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => {});
    await client.end();
  }
}
