/** `slotline migrate` with DATABASE_READ_ROLE: the role the API connects as can SELECT every table and nothing else. */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterEach, describe, expect, inject, test } from "vitest";
import { startApi } from "../../api/server/index.js";
import { parseConfig } from "../../core/config.js";
import { createLogger } from "../../core/logger.js";
import { runMigrations } from "../../core/migrate.js";
import { ReadRoleError } from "../../core/read-role.js";
import { runCli } from "../setup/cli.js";
import { createTestDatabase, uniquePrefix } from "../setup/services.js";

const TABLE_PRIVILEGES = ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"];

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** The same URL, logged in as `user` (the test server trusts local TCP: the password is not checked here). */
function as(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString();
}

const errorCode = (p: Promise<unknown>) =>
  p.then(
    () => "no error",
    (err: { code?: string }) => err.code,
  );

describe("the API's read-only role", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    // the database first: the role's grants and default privileges live in it
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setUp() {
    const db = await createTestDatabase(inject("pgAdminUrl"), null);
    const role = `slotline_t_ro_${randomUUID().replace(/-/g, "").slice(0, 12)}`;
    cleanups.push(() => withClient(inject("pgAdminUrl"), (c) => c.query(`drop role if exists ${role}`)).then(() => {}));
    cleanups.push(db.drop);
    const env = { DATABASE_URL: db.url, DATABASE_READ_ROLE: role, DATABASE_READ_PASSWORD: "first-password" };
    return { db, role, env };
  }

  test("migrate creates it; it reads every table, writes none, creates nothing; a second run is fine", async () => {
    const { db, role, env } = await setUp();
    const first = await runCli(["migrate"], env);
    expect(first.code, first.stderr).toBe(0);
    const second = await runCli(["migrate"], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/nothing to apply/);

    const tables = await withClient(db.url, async (c) => {
      const r = await c.query<{ t: string }>(
        "select table_name as t from information_schema.tables where table_schema = 'public' order by 1",
      );
      return r.rows.map((x) => x.t);
    });
    expect(tables.length).toBeGreaterThan(10);
    const granted = await withClient(db.url, async (c) => {
      const out: Record<string, string[]> = {};
      for (const t of tables) {
        out[t] = [];
        for (const p of TABLE_PRIVILEGES)
          if ((await c.query("select has_table_privilege($1, $2, $3) as ok", [role, t, p])).rows[0].ok) out[t].push(p);
      }
      return out;
    });
    expect(granted).toEqual(Object.fromEntries(tables.map((t) => [t, ["SELECT"]])));

    await withClient(as(db.url, role, "first-password"), async (c) => {
      for (const t of tables) await c.query(`select * from ${t} limit 1`);
      // the read-only default is a second fence: lifted here, the missing privilege still refuses the write
      await c.query("set default_transaction_read_only = off");
      expect(await errorCode(c.query("insert into slots (slot, status) values (1, 'pending')"))).toBe("42501");
      expect(await errorCode(c.query("delete from slots"))).toBe("42501");
      expect(await errorCode(c.query("truncate swaps"))).toBe("42501");
      expect(await errorCode(c.query("create table mine (x int)"))).toBe("42501");
      expect(await errorCode(c.query("select * from drizzle.__drizzle_migrations"))).toBe("42501");
      expect(await errorCode(c.query("set role postgres"))).toBe("42501");
    });
    await withClient(as(db.url, role, "first-password"), async (c) => {
      expect((await c.query("show default_transaction_read_only")).rows[0].default_transaction_read_only).toBe("on");
      expect(await errorCode(c.query("insert into slots (slot, status) values (1, 'pending')"))).toBe("25006");
    });
  }, 120_000);

  test("the API serves as the role: ready, and a query that reads tables answers", async () => {
    const { db, role } = await setUp();
    await runMigrations(db.url, { readRole: { name: role, password: "pw-of-the-api" } });
    await withClient(db.url, (c) =>
      c.query(
        "insert into tokens (mint, program, decimals, first_seen_slot, updated_slot) values ('So11111111111111111111111111111111111111112', 'spl-token', 9, 1, 1)",
      ),
    );
    const config = parseConfig({
      DATABASE_URL: as(db.url, role, "pw-of-the-api"),
      REDIS_URL: inject("redisUrl"),
      QUEUE_PREFIX: uniquePrefix(),
      LOG_LEVEL: "silent",
    });
    const server = await startApi(
      { config, logger: createLogger(config) },
      { port: 0, host: "127.0.0.1", rateLimit: false, responseCache: false },
    );
    try {
      expect((await fetch(`${server.url}/ready`)).status).toBe(200);
      const res = await fetch(`${server.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ tokens(first: 3) { edges { node { mint decimals } } } }" }),
      });
      expect(await res.json()).toEqual({
        data: { tokens: { edges: [{ node: { mint: "So11111111111111111111111111111111111111112", decimals: 9 } }] } },
      });
    } finally {
      await server.close();
    }
  }, 60_000);

  test("a later run takes back a privilege granted by hand, and sets a new password", async () => {
    const { db, role } = await setUp();
    const opts = { readRole: { name: role, password: "first-password" } };
    await runMigrations(db.url, opts);
    const verifier = () =>
      withClient(db.url, async (c) => {
        const r = await c.query("select rolpassword from pg_authid where rolname = $1", [role]);
        return r.rows[0].rolpassword as string | null;
      });
    const before = await verifier();
    expect(before).toMatch(/^SCRAM-SHA-256\$/);
    await withClient(db.url, (c) =>
      c.query(`grant insert, update on slots to ${role}; grant pg_write_all_data to ${role}`),
    );

    await runMigrations(db.url, { readRole: { name: role, password: "second-password" } });
    const after = await withClient(db.url, async (c) => {
      const r = await c.query(
        "select has_table_privilege($1, 'slots', 'INSERT') as ins, has_table_privilege($1, 'slots', 'UPDATE') as upd, " +
          "pg_has_role($1, 'pg_write_all_data', 'MEMBER') as member",
        [role],
      );
      return r.rows[0];
    });
    expect(after).toEqual({ ins: false, upd: false, member: false });
    expect(await verifier()).not.toBe(before);
  }, 60_000);

  test("refuses a role that is the migrating user or a superuser, changing nothing", async () => {
    const { db } = await setUp();
    await expect(runMigrations(db.url, { readRole: { name: "postgres", password: "whatever" } })).rejects.toThrow(
      ReadRoleError,
    );
    const still = await withClient(db.url, (c) => c.query("select rolsuper from pg_roles where rolname = 'postgres'"));
    expect(still.rows[0].rolsuper).toBe(true);
  }, 60_000);
});
