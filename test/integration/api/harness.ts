/**
 * API test harness: a database cloned from the migrated template and filled the way the indexer fills it
 * (the two whole mainnet blocks, decoded by the real decoder with the Jupiter IDL, written by the real store),
 * the API's read-only pool with a statement counter, and createApi over them, in the read path's mode SQL_MODE.
 */
import { readFileSync } from "node:fs";
import pg from "pg";
import { inject } from "vitest";
import type { ApiContext } from "../../../api/context.js";
import { type Api, type ApiOptions, createApi } from "../../../api/server/index.js";
import { type SqlMode, createReadPool } from "../../../api/sql/index.js";
import { createDb, type Db } from "../../../core/db.js";
import { type DecodedBlock, createDecoder } from "../../../indexer/decode/index.js";
import { createLogger } from "../../../core/logger.js";
import { createStore } from "../../../indexer/store/index.js";
import { decodedFixtureBlocks, fixturePath } from "../../setup/fixtures.js";
import { createTestDatabase, uniquePrefix } from "../../setup/services.js";

/**
 * The read path's mode every API of these tests runs in: TEST_API_SQL_MODE (`pipelined`, the default, or `plain`;
 * `npm run test:api-plain`). Tests of the pipelined machinery itself (round trips, grouping, the slow lane) skip in
 * plain mode.
 */
export const SQL_MODE: SqlMode = sqlModeOf(process.env.TEST_API_SQL_MODE);

function sqlModeOf(v: string | undefined): SqlMode {
  if (v === undefined || v === "" || v === "pipelined") return "pipelined";
  if (v === "plain") return "plain";
  throw new Error(`TEST_API_SQL_MODE must be pipelined or plain, not ${v}`);
}

/** True when the tests run the plain mode: for `test.skipIf(PLAIN)` on tests of the pipelined machinery. */
export const PLAIN = SQL_MODE === "plain";

const PROGRAMS = [
  "spl-token",
  "token-2022",
  "raydium-amm-v4",
  "raydium-cpmm",
  "raydium-clmm",
  "orca-whirlpool",
  "meteora-dlmm",
  "meteora-damm-v2",
  "pumpfun",
  "pump-amm",
  "jupiter-v6",
];

/** The two whole mainnet blocks, decoded as the worker decodes them (plus Jupiter's IDL for program events). */
export function loadFixtureBlocks(): DecodedBlock[] {
  const jupiter = JSON.parse(readFileSync(fixturePath("jupiter/idl/jupiter_agg_v6_idl_new_format.json"), "utf8"));
  const decoder = createDecoder({ programs: PROGRAMS, idls: [jupiter] });
  return decodedFixtureBlocks(decoder);
}

/**
 * Counts every statement sent on any connection of a pool (the check behind "at most N statements"), and the round
 * trips (a batch is one).
 */
export function countStatements(pool: pg.Pool): { count: number; texts: string[]; roundTrips: number; reset(): void } {
  const c = {
    count: 0,
    texts: [] as string[],
    roundTrips: 0,
    reset() {
      c.count = 0;
      c.texts = [];
      c.roundTrips = 0;
    },
  };
  pool.on("connect", (client) => {
    const original = client.query.bind(client) as (...a: unknown[]) => unknown;
    (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...args: unknown[]) => {
      // A batch (api/sql/batch.ts) is one call carrying several statements: each counts.
      const q = args[0] as { text?: string; statements?: readonly { text: string }[] };
      const texts =
        typeof args[0] === "string" ? [args[0]] : q?.statements ? q.statements.map((s) => s.text) : [String(q?.text)];
      c.count += texts.length;
      c.roundTrips++;
      c.texts.push(...texts);
      return original(...args);
    };
  });
  return c;
}

/** A GraphQL response as tests read it. */
export type GqlResponse<T = any> = {
  status: number;
  headers: Headers;
  body: { data?: T; errors?: { message: string; extensions?: Record<string, unknown>; path?: string[] }[] };
};

/** What a test gets. */
export type ApiHarness = {
  url: string;
  prefix: string;
  sql: pg.Pool;
  writer: Db;
  pool: pg.Pool;
  statements: ReturnType<typeof countStatements>;
  api: Api;
  logs: string[];
  blocks: DecodedBlock[];
  gql<T = any>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<GqlResponse<T>>;
  close(): Promise<void>;
};

/** Sets up a filled database and an API over it. */
export async function setupApi(
  opts: {
    api?: ApiOptions;
    config?: Partial<ApiContext["config"]>;
    statementTimeoutMs?: number;
    context?: Partial<ApiContext>;
    fill?: boolean;
  } = {},
): Promise<ApiHarness> {
  const database = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
  const writer = createDb(database.url, { max: 2 });
  const blocks = loadFixtureBlocks();
  if (opts.fill !== false) await createStore({ db: writer }).writeBlocks(blocks, { commitment: "confirmed" });
  const pool = createReadPool(database.url, {
    max: 5,
    statementTimeoutMs: opts.statementTimeoutMs ?? 5_000,
    mode: SQL_MODE,
  });
  const statements = countStatements(pool);
  const logs: string[] = [];
  const logger = createLogger({ LOG_LEVEL: "info", LOG_FORMAT: "json" }, { write: (l: string) => logs.push(l) });
  const prefix = uniquePrefix();
  // No slow lane unless a test asks: a statement over 10 ms on a loaded machine would get a clocked batch, whose
  // clock statements the statement counts above would see.
  const api = createApi(
    { config: { QUEUE_PREFIX: prefix, ...opts.config }, logger, pool, ...opts.context },
    { rateLimit: false, slowQueryConcurrency: 0, sqlMode: SQL_MODE, ...opts.api },
  );
  return {
    url: database.url,
    prefix,
    sql: writer.$client,
    writer,
    pool,
    statements,
    api,
    logs,
    blocks,
    async gql(query, variables, headers) {
      const r = await api.fetch("http://test/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return { status: r.status, headers: r.headers, body: (await r.json()) as GqlResponse["body"] };
    },
    async close() {
      await api.dispose?.();
      await pool.end();
      await writer.$client.end();
      await database.drop();
    },
  };
}
