/**
 * Production settings of the public endpoint: persisted-operations mode (G7), GraphiQL off with introspection (G7),
 * the trusted-proxy header for client identity (G8), and a SELECT-only role behind DATABASE_READ_URL (G9).
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { createApi, startApi } from "../../../api/server/index.js";
import { persistedOperations } from "../../../api/server/persisted.js";
import { parseConfig } from "../../../core/config.js";
import { createLogger } from "../../../core/logger.js";
import { type ApiHarness, SQL_MODE, setupApi } from "./harness.js";

const silent = createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" });
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const TOKENS = `query Tokens { tokens(first: 3, orderBy: { field: MINT }) { edges { node { mint decimals } } } }`;
const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});
type Body = { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };

describe("api production settings", () => {
  let h: ApiHarness;
  let dir: string;
  beforeAll(async () => {
    h = await setupApi();
    dir = mkdtempSync(path.join(tmpdir(), "slotline-api-"));
  });
  afterAll(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("G7: persisted-operations mode", () => {
    const store = persistedOperations({ [sha256(TOKENS)]: TOKENS });
    const api = () =>
      createApi(
        { config: { QUEUE_PREFIX: h.prefix }, logger: silent, pool: h.pool },
        { rateLimit: false, persistedOperations: store, sqlMode: SQL_MODE },
      );

    test("a known hash runs the stored document and answers what the raw document answers on an open server", async () => {
      const open = await h.gql(TOKENS);
      expect(open.body.data.tokens.edges).toHaveLength(3);
      const r = await api().fetch(
        "http://test/graphql",
        json({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256(TOKENS) } } }),
      );
      expect(r.status).toBe(200);
      expect(((await r.json()) as Body).data).toEqual(open.body.data);
      // GET, as a CDN-cached client sends it
      const qs = new URLSearchParams({
        extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: sha256(TOKENS) } }),
      });
      const g = await api().fetch(`http://test/graphql?${qs}`, { headers: { accept: "application/json" } });
      expect(((await g.json()) as Body).data).toEqual(open.body.data);
    });

    test("an unknown hash and a raw document are refused before any SQL", async () => {
      const a = api();
      for (const [body, code] of [
        [
          { extensions: { persistedQuery: { version: 1, sha256Hash: sha256("{ tokens { totalCount } }") } } },
          "PERSISTED_QUERY_NOT_FOUND",
        ],
        [{ query: TOKENS }, "PERSISTED_QUERY_ONLY"],
        // a document riding along with a known hash does not get to run either
        [
          {
            query: `{ pools { totalCount } }`,
            extensions: { persistedQuery: { version: 1, sha256Hash: sha256(TOKENS) } },
          },
          "PERSISTED_QUERY_ONLY",
        ],
        [{}, "PERSISTED_QUERY_ONLY"],
      ] as const) {
        h.statements.reset();
        const r = await a.fetch("http://test/graphql", json(body));
        const b = (await r.json()) as Body;
        expect(r.status).toBe(400);
        expect(b.data ?? null).toBeNull();
        expect(b.errors?.[0]?.extensions?.code).toBe(code);
        expect(h.statements.count).toBe(0);
      }
    });

    test("a manifest entry whose key is not the document's sha256 is refused at start-up", () => {
      expect(() => persistedOperations({ [sha256("{ a }")]: "{ b }" })).toThrow(/not the sha256/);
      expect(() => persistedOperations({ "not-a-hash": TOKENS })).toThrow(/not the sha256/);
    });

    test("API_PERSISTED_OPERATIONS switches the mode on for `slotline api` (over HTTP and graphql-ws checks alike)", async () => {
      const file = path.join(dir, "operations.json");
      writeFileSync(file, JSON.stringify({ [sha256(TOKENS)]: TOKENS }));
      const config = parseConfig({
        DATABASE_URL: h.url,
        REDIS_URL: inject("redisUrl"),
        QUEUE_PREFIX: h.prefix,
        API_SQL_MODE: SQL_MODE,
        LOG_LEVEL: "silent",
        API_PERSISTED_OPERATIONS: file,
      });
      const server = await startApi(
        { config, logger: silent },
        { port: 0, host: "127.0.0.1", rateLimit: false, responseCache: false },
      );
      try {
        const raw = (await (await fetch(`${server.url}/graphql`, json({ query: TOKENS }))).json()) as Body;
        expect(raw.errors?.[0]?.extensions?.code).toBe("PERSISTED_QUERY_ONLY");
        const known = (await (
          await fetch(
            `${server.url}/graphql`,
            json({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256(TOKENS) } } }),
          )
        ).json()) as Body;
        expect(known.data.tokens.edges).toHaveLength(3);
      } finally {
        await server.close();
      }
      const missing = parseConfig({
        DATABASE_URL: h.url,
        QUEUE_PREFIX: h.prefix,
        API_SQL_MODE: SQL_MODE,
        API_PERSISTED_OPERATIONS: path.join(dir, "absent.json"),
      });
      await expect(startApi({ config: missing, logger: silent }, { port: 0, host: "127.0.0.1" })).rejects.toThrow(
        /ENOENT/,
      );
    });
  });

  test("G7: GraphiQL is served only while introspection is on", async () => {
    const page = (api: ReturnType<typeof createApi>) =>
      api.fetch("http://test/graphql", { headers: { accept: "text/html" } });
    const on = await page(
      createApi({ config: { QUEUE_PREFIX: h.prefix }, logger: silent, pool: h.pool }, { sqlMode: SQL_MODE }),
    );
    expect(on.headers.get("content-type")).toMatch(/text\/html/);
    expect(await on.text()).toMatch(/graphiql/i);
    const off = await page(
      createApi(
        { config: { QUEUE_PREFIX: h.prefix, API_INTROSPECTION: false }, logger: silent, pool: h.pool },
        { sqlMode: SQL_MODE },
      ),
    );
    expect(off.headers.get("content-type") ?? "").not.toMatch(/text\/html/);
    expect(await off.text()).not.toMatch(/graphiql/i);
  });

  test("G8: behind a trusted proxy (API_TRUST_PROXY) budgets follow X-Forwarded-For; otherwise a forged header changes nothing", async () => {
    const budget = { capacity: 30, windowMs: 60_000, minCost: 10 };
    const spend = async (url: string, ip: string) => {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++)
        statuses.push(
          (await fetch(`${url}/graphql`, json({ query: `{ __typename }` }, { "x-forwarded-for": ip }))).status,
        );
      return statuses;
    };
    for (const trusted of [true, false]) {
      const config = parseConfig({
        DATABASE_URL: h.url,
        REDIS_URL: inject("redisUrl"),
        QUEUE_PREFIX: h.prefix,
        API_SQL_MODE: SQL_MODE,
        LOG_LEVEL: "silent",
        API_TRUST_PROXY: String(trusted),
      });
      const server = await startApi(
        { config, logger: silent },
        { port: 0, host: "127.0.0.1", rateLimit: budget, responseCache: false },
      );
      try {
        expect(await spend(server.url, "203.0.113.1")).toEqual([200, 200, 200, 429]);
        // a second client behind the proxy has its own budget; without trust, every "client" is the one socket address
        expect((await spend(server.url, "198.51.100.7"))[0]).toBe(trusted ? 200 : 429);
      } finally {
        await server.close();
      }
    }
  });

  test("API_RATE_LIMIT sets each client's budget in cost units a minute; 0 turns rate limiting off", async () => {
    const statuses = async (limit: string) => {
      const config = parseConfig({
        DATABASE_URL: h.url,
        REDIS_URL: inject("redisUrl"),
        QUEUE_PREFIX: h.prefix,
        API_SQL_MODE: SQL_MODE,
        LOG_LEVEL: "silent",
        API_RATE_LIMIT: limit,
      });
      const server = await startApi({ config, logger: silent }, { port: 0, host: "127.0.0.1", responseCache: false });
      try {
        const out: number[] = [];
        for (let i = 0; i < 4; i++)
          out.push((await fetch(`${server.url}/graphql`, json({ query: `{ __typename }` }))).status);
        return out;
      } finally {
        await server.close();
      }
    };
    // a bucket holds 10 s of a minute's budget, 30 units of 180, and each request costs at least 10: three answers
    expect(await statuses("180")).toEqual([200, 200, 200, 429]);
    expect(await statuses("0")).toEqual([200, 200, 200, 200]);
  });

  test("G9: with DATABASE_READ_URL on a SELECT-only role, the API reads and no table is writable by it", async () => {
    const role = `ro_${h.prefix.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}`.slice(0, 60);
    const db = new URL(h.url).pathname.slice(1);
    // The read role recipe of docs/operations.md.
    await h.sql.query(`create role ${role} login`);
    await h.sql.query(`grant connect on database ${db} to ${role}`);
    await h.sql.query(`grant usage on schema public to ${role}`);
    await h.sql.query(`grant select on all tables in schema public to ${role}`);
    const readUrl = new URL(h.url);
    readUrl.username = role;
    readUrl.password = "";
    const config = parseConfig({
      DATABASE_URL: h.url,
      DATABASE_READ_URL: readUrl.toString(),
      REDIS_URL: inject("redisUrl"),
      QUEUE_PREFIX: h.prefix,
      API_SQL_MODE: SQL_MODE,
      LOG_LEVEL: "silent",
    });
    const server = await startApi(
      { config, logger: silent },
      { port: 0, host: "127.0.0.1", rateLimit: false, responseCache: false },
    );
    try {
      const r = (await (await fetch(`${server.url}/graphql`, json({ query: TOKENS }))).json()) as Body;
      expect(r.errors).toBeUndefined();
      expect(r.data.tokens.edges).toHaveLength(3);
      // the API's sessions are the read role's (the harness's own pool, as postgres, shares the application name)
      const sessions = await h.sql.query(
        `select count(*)::int as n from pg_stat_activity where datname = $1 and usename = $2 and application_name = 'slotline-api'`,
        [db, role],
      );
      expect(sessions.rows[0].n).toBeGreaterThan(0);
      const writable = await h.sql.query(
        `select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm')
           and (has_table_privilege($1, c.oid, 'INSERT') or has_table_privilege($1, c.oid, 'UPDATE') or has_table_privilege($1, c.oid, 'DELETE') or has_table_privilege($1, c.oid, 'TRUNCATE'))`,
        [role],
      );
      expect(writable.rows).toEqual([]);
      // and the sessions are read-only on top of that
      const c = new pg.Client({ connectionString: readUrl.toString() });
      await c.connect();
      await expect(c.query("insert into cursors (id, kind) values ('x', 'live')")).rejects.toThrow(/permission denied/);
      await c.end();
    } finally {
      await server.close();
      await h.sql.query(`drop owned by ${role}`);
      await h.sql.query(`drop role ${role}`);
    }
  });
});
