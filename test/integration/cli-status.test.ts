import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { runCli } from "../setup/cli.js";
import { createTestDatabase } from "../setup/services.js";

describe("slotline status", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    db = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
  });
  afterAll(() => db.drop());

  test("bad configuration exits 2 and names every bad key", async () => {
    const r = await runCli(["status"], { DATABASE_URL: "nonsense", REDIS_URL: "" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/DATABASE_URL: expected a URL/);
    expect(r.stderr).toMatch(/REDIS_URL: expected a URL/);
  });

  test("on a migrated, empty database prints the cursor state and exits 0", async () => {
    const r = await runCli(["status"], { DATABASE_URL: db.url });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/live cursor\s+none/);
    expect(r.stdout).toMatch(/backfills\s+none/);
  });

  test("reports the live resume point and backfill progress stored in cursors", async () => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await c.query(`insert into cursors (id, kind, status, slot) values ('live', 'live', 'running', 332254900)`);
    await c.query(
      `insert into cursors (id, kind, status, slot, position, done, total) values ('backfill-abc', 'backfill', 'paused', 1000, '1000', 250, 1000)`,
    );
    await c.query(`insert into slots (slot, status) values (332254855, 'indexed'), (332254856, 'skipped')`);
    await c.end();
    const r = await runCli(["status", "--json"], { DATABASE_URL: db.url });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.live.resumeSlot).toBe(332254900);
    expect(report.backfills).toEqual([
      expect.objectContaining({ id: "backfill-abc", status: "paused", done: 250, total: 1000 }),
    ]);
    expect(report.slots).toMatchObject({ indexed: 1, skipped: 1, highestIndexed: 332254855 });
  });

  test("services that do not answer: one line each, naming the URL tried and how to start it, no query dump", async () => {
    const down = { DATABASE_URL: "postgres://postgres:secret@127.0.0.1:1/slotline", REDIS_URL: "redis://127.0.0.1:1" };
    const status = await runCli(["status"], down);
    expect(status.code).toBe(1);
    expect(status.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(
        /^error: Postgres does not answer at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/slotline \(.*ECONNREFUSED.*\): .*docker compose up -d postgres redis/,
      ),
    ]);
    // the demo needs both: both are named, one line each, before anything starts
    const demo = await runCli(["demo"], down);
    expect(demo.code).toBe(1);
    const lines = demo.stderr.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^error: Postgres does not answer at .*127\.0\.0\.1:1\/slotline/);
    expect(lines[1]).toMatch(/^error: Redis does not answer at redis:\/\/127\.0\.0\.1:1 \(.*ECONNREFUSED.*\)/);
    expect(`${status.stderr}${demo.stderr}`).not.toMatch(/Failed query|secret|at async/);
  });

  test("a database that does not exist says to run migrate", async () => {
    const r = await runCli(["status"], {
      DATABASE_URL: `${inject("pgAdminUrl").replace(/\/[^/]*$/, "")}/slotline_missing_db`,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: Postgres at .*slotline_missing_db has no such database .*npx slotline migrate/);
    expect(r.stderr).not.toMatch(/Failed query/);
  });

  test("an unmigrated database is an error that says to run migrate", async () => {
    const empty = await createTestDatabase(inject("pgAdminUrl"), null);
    try {
      const r = await runCli(["status"], { DATABASE_URL: empty.url });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/npx slotline migrate/);
    } finally {
      await empty.drop();
    }
  });
});
