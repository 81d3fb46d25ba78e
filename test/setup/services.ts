/** Where the test services are: the local Postgres and Redis (CI starts them; see .ci/run). */
import { randomUUID } from "node:crypto";
import pg from "pg";

/** Admin connection to the local Postgres (trust auth). Tests use TEST_PG_URL / TEST_REDIS_URL if set. */
// Tests are the one place besides core/config.ts that read the environment: they pick the services.
export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? "postgres://postgres:postgres@127.0.0.1:5432/postgres";
export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** The same server URL with another database name. */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A fresh database cloned from the migrated template; `drop()` removes it (terminating leftover sessions). */
export async function createTestDatabase(
  adminUrl: string,
  template: string | null,
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `slotline_t_${randomUUID().replace(/-/g, "").slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  admin.on("error", () => {}); // ended by the server between queries (a restart): the next query fails instead
  await admin.connect();
  try {
    await admin.query(template ? `create database ${name} template ${template}` : `create database ${name}`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: withDatabase(adminUrl, name),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      c.on("error", () => {}); // ended by the server between queries (a restart): the next query fails instead
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A unique queue prefix per test, so BullMQ keys never collide. */
export function uniquePrefix(): string {
  return `test-${randomUUID().slice(0, 8)}`;
}
