/** Services the benchmarks use: a fresh, migrated database per suite on the local Postgres, and Redis. */
import pg from "pg";
import { runMigrations } from "../core/migrate.js";

// The bench is a developer tool, like the tests: it picks its services from BENCH_* variables or the defaults.
export const BENCH_PG_ADMIN_URL = process.env.BENCH_PG_URL ?? "postgres://postgres:postgres@127.0.0.1:5432/postgres";
export const BENCH_REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";

/** Creates (or recreates) database `name`, migrated; returns its URL and a drop function. */
export async function freshDatabase(name: string): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = new pg.Client({ connectionString: BENCH_PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(BENCH_PG_ADMIN_URL);
  u.pathname = `/${name}`;
  const url = u.toString();
  await runMigrations(url, { createDatabase: false });
  return {
    url,
    async drop() {
      const c = new pg.Client({ connectionString: BENCH_PG_ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
