/**
 * Integration global setup: checks that Postgres and Redis answer, builds a migrated template database
 * (named by a hash of the migrations, so it is rebuilt only when they change) and provides the URLs.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { MIGRATIONS_FOLDER, runMigrations } from "../../core/migrate.js";
import { describeServiceProblem, probePostgres, probeRedis } from "../../core/services.js";
import { PG_ADMIN_URL, REDIS_URL, withDatabase } from "./services.js";

declare module "vitest" {
  export interface ProvidedContext {
    pgAdminUrl: string;
    templateDb: string;
    redisUrl: string;
  }
}

function migrationsHash(): string {
  const h = createHash("sha256");
  for (const f of readdirSync(MIGRATIONS_FOLDER).sort())
    if (f.endsWith(".sql")) h.update(readFileSync(path.join(MIGRATIONS_FOLDER, f)));
  return h.digest("hex").slice(0, 12);
}

export default async function setup(project: TestProject) {
  // The same one line per missing service as the CLI prints (core/services.ts), both at once.
  const missing = (await Promise.all([probePostgres(PG_ADMIN_URL), probeRedis(REDIS_URL)])).filter((p) => p !== null);
  if (missing.length) {
    throw new Error(`\n${missing.map(describeServiceProblem).join("\n")}\n(or run .ci/run, which starts both)`);
  }
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  admin.on("error", () => {}); // ended by the server between queries (a restart): the next query fails instead
  await admin.connect();

  const templateDb = `slotline_tmpl_${migrationsHash()}`;
  try {
    await admin.query("select pg_advisory_lock(7462010002)");
    const exists = await admin.query("select 1 from pg_database where datname = $1", [templateDb]);
    if (!exists.rowCount) {
      // Build under a temporary name and rename, so a half-built template is never used.
      const building = `${templateDb}_building`;
      await admin.query(`drop database if exists ${building}`);
      await admin.query(`create database ${building}`);
      await runMigrations(withDatabase(PG_ADMIN_URL, building), { createDatabase: false });
      await admin.query(`alter database ${building} rename to ${templateDb}`);
    }
  } finally {
    await admin.query("select pg_advisory_unlock(7462010002)").catch(() => {});
    await admin.end();
  }
  project.provide("pgAdminUrl", PG_ADMIN_URL);
  project.provide("templateDb", templateDb);
  project.provide("redisUrl", REDIS_URL);
}
