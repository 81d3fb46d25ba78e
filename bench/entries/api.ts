/**
 * The GraphQL API under load: requests/s and p50/p99 at 64 concurrent keep-alive clients for three dashboard
 * questions (a token page, a pool page with its last 20 swaps and 24 h candles, a wallet's last 50 swaps),
 * side by side with PostGraphile v5 serving the same database for the same questions, in the same run.
 * Both servers run in their own child process (this file, started with --serve), the load from this one.
 * The database holds the two whole mainnet blocks, stored 150 times over at later slots (~78k transactions).
 * `api-yoga-floor` measures, under the same load, graphql-yoga alone and node:http alone: what this machine allows at all.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { Agent, createServer, request } from "node:http";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type BenchEntry, type BenchSuite, quantile } from "../harness.js";
import { copyOf, decodedBlocks } from "../dataset.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** Children run `node --import tsx` (not the tsx CLI, whose own child outlived a SIGKILL and kept serving). */
/** The key the bench's API servers serve /metrics behind (API_METRICS_KEY). */
const BENCH_METRICS_KEY = "bench-metrics-key-0123456789";
const TSX = ["--import", "tsx"];
/**
 * The Node flag slotline ships with (cli/bin/slotline.mjs, the Dockerfile, `npm run demo`): every server child
 * runs with it, PostGraphile's and the floors' too, so that all of them run on the same Node settings.
 */
const SERVER_NODE_ARGS = ["--max-semi-space-size=64"];
const COPIES = 150;
export const CLIENTS = 64;
export const MEASURE_MS = 3_000;
/** The live pages' writer stores one block this often (mainnet's slot time). */
const BLOCK_MS = 400;
/** The slow-query flood of the reliability bar's G5: requests per second, and how long each write sample runs. */
const FLOOD_RPS = 50;
const FLOOD_MS = 5_000;
const DB_NAME = "slotline_bench_api";
/**
 * G8: one client sends HAMMER_RPS dashboard queries a second for NEIGHBOUR_MS, another NEIGHBOUR_RPS (its p95 is
 * measured).
 */
const HAMMER_RPS = 200;
const NEIGHBOUR_RPS = 10;
const NEIGHBOUR_MS = 5_000;
/** G8 episodes pooled into one sample: 3 x 50 latencies, so a p95 is not just the third-slowest of 50. */
const NEIGHBOUR_EPISODES = 3;

/**
 * PostGraphile reads relations from foreign keys; the schema has none (the indexer writes out of order), so smart tags
 * name them.
 */
export const POSTGRAPHILE_SQL = `
  comment on table pools is E'@foreignKey (mint_a) references tokens (mint)\\n@foreignKey (mint_b) references tokens (mint)';
  comment on table swaps is E'@foreignKey (pool) references pools (address)';
  comment on table token_transfers is E'@foreignKey (mint) references tokens (mint)';
  comment on table cursors is E'@behavior -*';
  comment on table dead_letters is E'@behavior -*';
  create or replace function pools_candles(p pools, seconds int, since timestamptz) returns table (
    bucket timestamptz, open numeric, high numeric, low numeric, close numeric, volume_a numeric, swaps bigint) language sql stable as $$
    with s as (
      select to_timestamp(floor(extract(epoch from s.block_time) / seconds) * seconds) b, s.slot, s.tx_index, s.instruction_path,
        case when s.mint_in = p.mint_a then s.amount_out::numeric / nullif(s.amount_in, 0) else s.amount_in::numeric / nullif(s.amount_out, 0) end price,
        case when s.mint_in = p.mint_a then s.amount_in else s.amount_out end va
      from swaps s where s.pool = p.address and s.block_time >= since)
    select b, (array_agg(price order by slot, tx_index, instruction_path))[1], max(price), min(price),
      (array_agg(price order by slot desc, tx_index desc, instruction_path desc))[1], sum(va), count(*) from s group by b order by b $$;`;

export type Question = { name: string; description: string; slotline: string; postgraphile: string };

/** The three questions, for both servers. `$mint`, `$pool`, `$wallet` and `$since` are filled from the data. */
export function questions(v: { mint: string; pool: string; wallet: string; since: string }): Question[] {
  return [
    {
      name: "api-token-page",
      description: "a token and its first 10 pools and last 20 transfers",
      slotline: `{ token(mint: "${v.mint}") { mint decimals supply symbol pools(first: 10) { edges { node { address dex reserveA reserveB } } }
        transfers(first: 20) { edges { node { signature amount source destination blockTime } } } } }`,
      postgraphile: `{ tokenByMint(mint: "${v.mint}") { mint decimals supply symbol poolsByMintA(first: 10) { nodes { address dex reserveA reserveB } }
        tokenTransfersByMint(first: 20, orderBy: [SLOT_DESC]) { nodes { signature amount source destination blockTime } } } }`,
    },
    {
      name: "api-pool-page",
      description: "a pool with its tokens, its last 20 swaps and 24 h of 1 h candles",
      slotline: `{ pool(address: "${v.pool}") { address dex reserveA reserveB tokenA { mint decimals } tokenB { mint decimals }
        swaps(first: 20) { edges { node { signature trader amountIn amountOut blockTime } } }
        candles(interval: H1, from: "${v.since}") { start open high low close volumeA swaps } } }`,
      postgraphile: `{ poolByAddress(address: "${v.pool}") { address dex reserveA reserveB tokenByMintA { mint decimals } tokenByMintB { mint decimals }
        swapsByPool(first: 20, orderBy: [SLOT_DESC]) { nodes { signature trader amountIn amountOut blockTime } }
        candles(seconds: 3600, since: "${v.since}") { nodes { bucket open high low close volumeA swaps } } } }`,
    },
    {
      name: "api-wallet-swaps",
      description: "a wallet's last 50 swaps",
      slotline: `{ account(address: "${v.wallet}") { swaps(first: 50) { edges { node { signature pool { address } mintIn mintOut amountIn amountOut blockTime } } } } }`,
      postgraphile: `{ allSwaps(first: 50, condition: { trader: "${v.wallet}" }, orderBy: [SLOT_DESC]) { nodes { signature poolByPool { address } mintIn mintOut amountIn amountOut blockTime } } }`,
    },
  ];
}

// --- child process: one server -----------------------------------------------------------------------------

async function serve(kind: string, url: string, readUrls: string): Promise<void> {
  process.once("SIGTERM", () => process.exit(0));
  let address: string;
  if (kind === "yoga-floor" || kind === "http-floor") {
    address = await serveFloor(kind);
  } else if (kind === "slotline" || kind === "slotline-defaults" || kind === "slotline-cached") {
    const { startApi } = await import("../../api/server/index.js");
    const { parseConfig } = await import("../../core/config.js");
    const { createLogger } = await import("../../core/logger.js");
    // trust X-Forwarded-For: the G8 entry's two clients are told apart by it (the flood sends none: one socket address)
    const config = parseConfig({
      DATABASE_URL: url,
      LOG_LEVEL: "warn",
      QUEUE_PREFIX: "bench-api",
      API_TRUST_PROXY: "true",
      // /metrics on the API port only with a key: the live entries read the cache's counters from it
      API_METRICS_KEY: BENCH_METRICS_KEY,
      // read replicas (the replicas suite): reads spread over them, the primary's LSN the floor
      ...(readUrls ? { DATABASE_READ_URLS: readUrls } : {}),
    });
    // The measured path: no response cache, no rate limit (a load test is one client). "slotline-defaults" is the API
    // as `slotline api` starts it (rate limit, response cache, statement timeout: all defaults), for the G5 flood.
    // "slotline-cached" is the API as shipped but for the rate limit (the load generator is one client address, whose
    // budget would run out): the response cache at its defaults, for the live pages.
    const api = await startApi(
      { config, logger: createLogger(config) },
      kind === "slotline"
        ? { port: 0, host: "127.0.0.1", rateLimit: false, responseCache: false }
        : kind === "slotline-cached"
          ? { port: 0, host: "127.0.0.1", rateLimit: false }
          : { port: 0, host: "127.0.0.1" },
    );
    address = api.url;
  } else {
    // PostGraphile 5 is built for Node 22 and calls Promise.withResolvers, which Node 20 lacks.
    const P = Promise as unknown as { withResolvers?: () => unknown };
    P.withResolvers ??= () => {
      let resolve: unknown;
      let reject: unknown;
      const promise = new Promise((a, b) => ((resolve = a), (reject = b)));
      return { promise, resolve, reject };
    };
    const { postgraphile } = await import("postgraphile");
    const { PostGraphileAmberPreset } = await import("postgraphile/presets/amber");
    const { makePgService } = await import("postgraphile/adaptors/pg");
    const { grafserv } = await import("postgraphile/grafserv/node");
    const pgl = postgraphile({
      extends: [PostGraphileAmberPreset],
      pgServices: [makePgService({ connectionString: url, schemas: ["public"], poolConfig: { max: 10 } })],
    });
    const server = createServer();
    pgl.createServ(grafserv).addTo(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const a = server.address() as { port: number };
    address = `http://127.0.0.1:${a.port}`;
  }
  process.stdout.write(`${JSON.stringify({ event: "listening", url: `${address}/graphql` })}\n`);
}

/** The floor entry's answer: about the size of the token page's (7 KB of JSON). */
const FLOOR_TEXT = "x".repeat(7_000);
const FLOOR_QUERY = "{ page }";

/**
 * The floors under the API: graphql-yoga alone (its defaults, a one-field schema answered from memory: no
 * database, no slotline code), and node:http alone (the same bytes, whatever the body). Returns the base address.
 */
async function serveFloor(kind: string): Promise<string> {
  let server;
  if (kind === "yoga-floor") {
    const { createSchema, createYoga } = await import("graphql-yoga");
    const schema = createSchema({
      typeDefs: "type Query { page: String }",
      resolvers: { Query: { page: () => FLOOR_TEXT } },
    });
    server = createServer(createYoga({ schema, logging: false, landingPage: false }));
  } else {
    const answer = JSON.stringify({ data: { page: FLOOR_TEXT } });
    server = createServer((req, res) => {
      req.resume();
      req.on("end", () => res.writeHead(200, { "content-type": "application/json; charset=utf-8" }).end(answer));
    });
  }
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

export async function startServer(
  kind: string,
  dbUrl: string,
  readUrls: string[] = [],
): Promise<{ child: ChildProcess; url: string }> {
  // e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the servers (they exit on SIGTERM, writing it)
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  const child = spawn(
    process.execPath,
    [
      ...SERVER_NODE_ARGS,
      ...nodeArgs,
      ...TSX,
      fileURLToPath(import.meta.url),
      "--serve",
      kind,
      dbUrl,
      readUrls.join(","),
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${kind} exited with ${code}: ${stderr}`)));
    lines.on("line", (line) => {
      try {
        const m = JSON.parse(line) as { event?: string; url?: string };
        if (m.event === "listening" && m.url) resolve(m.url);
      } catch {
        // a log line
      }
    });
  });
  return { child, url };
}

// --- child process: the flood generator ----------------------------------------------------------------------

/**
 * Sends FLOOD_RPS slow queries a second to `url` for `ms` (open loop: whether or not earlier ones came back, as an
 * abusive client does), from this child process so the flood's own CPU is not spent in the process doing the writes.
 * Every request filters on another unknown dex (an unindexed column: a full scan and count each time), so neither
 * the parse cache nor the response cache can answer it. Starts on "go" (awaitGo), then prints the tally.
 */
async function flood(url: string, ms: number): Promise<void> {
  process.stdout.on("error", () => process.exit(0));
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  let sent = 0;
  let answered = 0;
  let refused = 0;
  const codes: Record<string, number> = {};
  const inflight = new Set<Promise<void>>();
  await awaitGo();
  const end = performance.now() + ms;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (performance.now() >= end) {
        clearInterval(timer);
        resolve();
        return;
      }
      const query = `{ swaps(first: 50, where: { dex: "flood-${sent++}" }) { totalCount edges { node { signature amountIn blockTime } } } }`;
      const p = post(agent, url, JSON.stringify({ query }), true).then((r) => {
        if (r.ok) answered++;
        else {
          refused++;
          codes[r.code] = (codes[r.code] ?? 0) + 1;
        }
      });
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }, 1000 / FLOOD_RPS);
  });
  await Promise.all(inflight);
  agent.destroy();
  process.stdout.write(`${JSON.stringify({ sent, answered, refused, codes })}\n`);
}

/**
 * G8's heavy client: HAMMER_RPS token pages a second (each document distinct, so the response cache cannot
 * answer) from one client address (X-Forwarded-For `ip`) for `ms`, open loop, from "go". Prints the tally.
 */
async function hammer(url: string, ms: number, ip: string, queries: string[]): Promise<void> {
  process.stdout.on("error", () => process.exit(0));
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  let sent = 0;
  const codes: Record<string, number> = {};
  const inflight = new Set<Promise<void>>();
  await awaitGo();
  const started = performance.now();
  await new Promise<void>((resolve) => {
    // paced by the clock, not by timer ticks (which drift on a loaded machine)
    const timer = setInterval(() => {
      const now = performance.now() - started;
      if (now >= ms) {
        clearInterval(timer);
        resolve();
        return;
      }
      while (sent < (now * HAMMER_RPS) / 1000) {
        // a trailing comment makes every document distinct, so the response cache never answers
        const body = JSON.stringify({ query: `${queries[sent % queries.length]} # ${ip} ${sent++}` });
        const p = post(agent, url, body, true, { "x-forwarded-for": ip }).then((r) => {
          const code = r.ok ? "OK" : r.code;
          codes[code] = (codes[code] ?? 0) + 1;
        });
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
      }
    }, 5);
  });
  await Promise.all(inflight);
  agent.destroy();
  process.stdout.write(`${JSON.stringify({ sent, codes })}\n`);
}

/**
 * G8's light client: NEIGHBOUR_RPS a second of `queries` in turn from address `ip` for `ms`, open loop, from "go".
 * Its queries are what a dashboard asks, the same pages again: they are answered once first from `warmIp` (so they
 * are in the response cache, and the light client's own budget starts full). Prints the latencies.
 * @dev its own process, so neither the bench's heap (its GC pauses) nor the heavy client's timers add to its clock
 */
async function light(url: string, ms: number, ip: string, warmIp: string, queries: string[]): Promise<void> {
  process.stdout.on("error", () => process.exit(0));
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const bodies = queries.map((query) => JSON.stringify({ query }));
  for (const body of bodies) await post(agent, url, body, false, { "x-forwarded-for": warmIp });
  await awaitGo();
  const latencies: number[] = [];
  let errors = 0;
  const sends: Promise<void>[] = [];
  const started = performance.now();
  for (let i = 0; i < (ms / 1000) * NEIGHBOUR_RPS; i++) {
    const at = started + (i * 1000) / NEIGHBOUR_RPS;
    await new Promise((r) => setTimeout(r, Math.max(0, at - performance.now())));
    const t = performance.now();
    sends.push(
      post(agent, url, bodies[i % bodies.length]!, false, { "x-forwarded-for": ip }).then(
        (r) => void (r.ok ? latencies.push(performance.now() - t) : errors++),
      ),
    );
  }
  await Promise.all(sends);
  agent.destroy();
  process.stdout.write(`${JSON.stringify({ latencies, errors })}\n`);
}

/**
 * The live pages' writer: from "go", stores one block every BLOCK_MS (copies of the fixture blocks from copy
 * `first` on, as the suite's writeNextCopy makes them) through the indexer's store and publishes its event, as the
 * worker does after each batch, until its stdin closes; then prints how many copies it started.
 */
async function writer(url: string, prefix: string, first: number): Promise<void> {
  process.stdout.on("error", () => process.exit(0));
  const { createDb } = await import("../../core/db.js");
  const { Redis } = await import("ioredis");
  const { eventsChannel } = await import("../../core/events.js");
  const db = createDb(url, { max: 1 });
  const store = (await import("../../indexer/store/index.js")).createStore({ db });
  const blocks = await decodedBlocks();
  const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
  let stop = false;
  process.stdin.on("end", () => (stop = true));
  await awaitGo();
  process.stdin.resume();
  let copies = 0;
  const started = performance.now();
  for (let j = first, n = 0; !stop; j++) {
    copies++;
    for (const block of copyOf(blocks, j)) {
      await store.writeBlocks([block], { commitment: "confirmed" });
      await redis.publish(
        eventsChannel(prefix),
        JSON.stringify({ type: "batch", slots: [block.slot], swaps: [], transactions: [] }),
      );
      n++;
      await new Promise((r) => setTimeout(r, Math.max(0, started + n * BLOCK_MS - performance.now())));
      if (stop) break;
    }
  }
  redis.disconnect();
  await db.$client.end();
  process.stdout.write(`${JSON.stringify({ copies })}\n`);
}

/** In a load child: says "ready", then waits for the parent's "go", so that two children start together. */
async function awaitGo(): Promise<void> {
  process.stdout.write("ready\n");
  const lines = createInterface({ input: process.stdin });
  await new Promise<void>((r) => lines.once("line", () => r()));
  lines.close();
}

// --- load ----------------------------------------------------------------------------------------------------

export type Load = { rps: number; p50: number; p99: number; errors: number };

function post(
  agent: Agent,
  url: string,
  body: string,
  withCode = false,
  headers: Record<string, string> = {},
): Promise<{ ok: boolean; code: string }> {
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => {
          const ok = res.statusCode === 200 && !text.includes('"errors"');
          resolve({
            ok,
            code: ok || !withCode ? "" : (/"code":"([A-Z_]+)"/.exec(text)?.[1] ?? `HTTP_${res.statusCode}`),
          });
        });
        res.on("error", () => resolve({ ok: false, code: "NETWORK" }));
      },
    );
    req.on("error", () => resolve({ ok: false, code: "NETWORK" }));
    req.end(body);
  });
}

/** CLIENTS loops, each one request at a time, for MEASURE_MS. */
export async function load(url: string, query: string): Promise<Load> {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const body = JSON.stringify({ query });
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + MEASURE_MS;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        const r = await post(agent, url, body);
        latencies.push(performance.now() - s);
        if (!r.ok) errors++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / seconds,
    p50: quantile(latencies, 0.5) ?? 0,
    p99: quantile(latencies, 0.99) ?? 0,
    errors,
  };
}

// --- suite ---------------------------------------------------------------------------------------------------

type Shared = {
  slotline: string;
  /** slotline as shipped: rate limit, response cache and statement timeout at their defaults */
  slotlineDefaults: string;
  postgraphile: string;
  questions: Question[];
  /**
   * G8: token pages of the 40 most transferred mints (the heavy client), last 50 swaps of the 40 busiest wallets (the
   * other)
   */
  hammerQueries: string[];
  neighbourQueries: string[];
  /** slotline as shipped but for the rate limit (the live pages) */
  slotlineCached: string;
  /** runs `work` while a writer child stores a block every BLOCK_MS and publishes its event */
  whileWriting<T>(work: () => Promise<T>): Promise<T>;
  /**
   * writes the next copy of the blocks through the indexer's store (one transaction per batch); returns slots written
   */
  writeNextCopy(): Promise<number>;
  stop(): Promise<void>;
};

async function prepare(): Promise<Shared> {
  const { freshDatabase } = await import("../services.js");
  const { createDb } = await import("../../core/db.js");
  const { createStore } = await import("../../indexer/store/index.js");
  const db = await freshDatabase(DB_NAME);
  const writer = createDb(db.url, { max: 2 });
  const blocks = await decodedBlocks();
  const store = createStore({ db: writer });
  const copy = (j: number) => copyOf(blocks, j);
  for (let k = 0; k < COPIES; k += 10) {
    const batch = [];
    for (let j = k; j < Math.min(COPIES, k + 10); j++) batch.push(...copy(j));
    await store.writeBlocks(batch, { commitment: "confirmed" });
  }
  let next = COPIES;
  await writer.$client.query(POSTGRAPHILE_SQL);
  await writer.$client.query("analyze");
  const pick = async (q: string) => Object.values((await writer.$client.query(q)).rows[0] as object)[0] as string;
  const v = {
    mint: await pick(`select mint from token_transfers group by mint order by count(*) desc limit 1 offset 1`),
    pool: await pick(`select pool from swaps group by pool order by count(*) desc limit 1`),
    wallet: await pick(`select trader from swaps group by trader order by count(*) desc limit 1`),
    since: new Date(
      new Date(await pick(`select max(block_time)::text from swaps`)).getTime() - 86_400_000,
    ).toISOString(),
  };
  const list = async (q: string) =>
    (await writer.$client.query(q)).rows.map((r) => Object.values(r as object)[0] as string);
  const mints = await list(`select mint from token_transfers group by mint order by count(*) desc limit 40`);
  const wallets = await list(`select trader from swaps group by trader order by count(*) desc limit 40`);
  const [a, b, d, e] = await Promise.all(
    ["slotline", "postgraphile", "slotline-defaults", "slotline-cached"].map((kind) => startServer(kind, db.url)),
  );
  const servers = [a!, b!, d!, e!];
  // run.ts exits without tearing down when --only picks one entry: never leave servers behind.
  process.once("exit", () => {
    for (const x of servers) x.child.kill("SIGTERM");
  });
  return {
    slotline: a!.url,
    slotlineDefaults: d!.url,
    slotlineCached: e!.url,
    postgraphile: b!.url,
    questions: questions(v),
    hammerQueries: mints.map((mint) => questions({ ...v, mint })[0]!.slotline),
    neighbourQueries: wallets.map((wallet) => questions({ ...v, wallet })[2]!.slotline),
    async whileWriting<T>(work: () => Promise<T>) {
      const w = await startWriter(db.url, next);
      try {
        return await work();
      } finally {
        next += await w.stop();
      }
    },
    async writeNextCopy() {
      const batch = copy(next++);
      await store.writeBlocks(batch, { commitment: "confirmed" });
      return batch.length;
    },
    async stop() {
      // The servers keep nothing worth flushing: they exit at once on SIGTERM (writing a --cpu-prof profile if asked).
      for (const x of servers) x.child.kill("SIGTERM");
      await writer.$client.end();
      // BENCH_KEEP_DB=1 leaves the filled database (slotline_bench_api) for load tests by hand against `--serve`
      if (!process.env.BENCH_KEEP_DB) await db.drop();
    },
  };
}

/**
 * Starts the writer child (copies from `first` on) and says go; stop() ends it and resolves to the copies it started.
 */
async function startWriter(url: string, first: number): Promise<{ stop(): Promise<number> }> {
  const child = spawn(
    process.execPath,
    [...TSX, fileURLToPath(import.meta.url), "--writer", url, "bench-api", String(first)],
    { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: child.stdout! });
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const tally = new Promise<{ copies: number }>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`writer child exited with ${code}`)));
    lines.on("line", (line) => {
      if (line === "ready") ready();
      else if (line.startsWith("{")) resolve(JSON.parse(line) as { copies: number });
    });
  });
  await Promise.race([isReady, tally]);
  child.stdin!.write("go\n");
  return {
    async stop() {
      child.stdin!.end();
      return (await tally).copies;
    },
  };
}

type FloodTally = { sent: number; answered: number; refused: number; codes: Record<string, number> };

/**
 * Runs this file as a load child (`--flood`, `--hammer`, `--light`); resolves once it is ready (awaitGo), with go(),
 * which starts it and resolves to its tally.
 */
async function readyChild<T>(args: string[]): Promise<{ go(): Promise<T> }> {
  const child = spawn(process.execPath, [...TSX, fileURLToPath(import.meta.url), ...args], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const tally = new Promise<T>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${args[0]} child exited with ${code}`)));
    lines.on("line", (line) => {
      if (line === "ready") ready();
      else if (line.startsWith("{")) resolve(JSON.parse(line) as T);
    });
  });
  await Promise.race([isReady, tally]);
  return {
    go() {
      child.stdin!.end("go\n");
      return tally;
    },
  };
}

/**
 * Slots/s the indexer's store writes for FLOOD_MS, optionally while a child process floods `floodUrl` with FLOOD_RPS
 * slow queries a second.
 */
async function writeThroughput(s: Shared, floodUrl: string | null): Promise<{ slotsPerSecond: number } & FloodTally> {
  const child = floodUrl ? await readyChild<FloodTally>(["--flood", floodUrl, String(FLOOD_MS)]) : null;
  const tally = child ? child.go() : Promise.resolve({ sent: 0, answered: 0, refused: 0, codes: {} });
  const t0 = performance.now();
  let slots = 0;
  while (performance.now() - t0 < FLOOD_MS) slots += await s.writeNextCopy();
  const seconds = (performance.now() - t0) / 1000;
  return { slotsPerSecond: slots / seconds, ...(await tally) };
}

type HammerTally = { sent: number; codes: Record<string, number> };
let clientNo = 0;

/**
 * G8: the p95 latency of the light client (a child process sending NEIGHBOUR_RPS wallet pages a second for
 * NEIGHBOUR_MS), alone or while another child sends HAMMER_RPS token pages a second from another address; the
 * latencies of NEIGHBOUR_EPISODES episodes are pooled. Each episode uses new client addresses, so it starts with full
 * budgets. The light client's pages are in the response cache (a dashboard asks the same again); the heavy client's
 * documents are all distinct, so none of its pages is.
 */
async function neighbourP95(
  s: Shared,
  withHammer: boolean,
): Promise<{ p95: number; errors: number; hammer: HammerTally | null }> {
  const latencies: number[] = [];
  let errors = 0;
  let hammer: HammerTally | null = null;
  for (let e = 0; e < NEIGHBOUR_EPISODES; e++) {
    const ep = await neighbourEpisode(s, withHammer);
    latencies.push(...ep.latencies);
    errors += ep.errors;
    hammer = ep.hammer;
  }
  latencies.sort((a, b) => a - b);
  return { p95: quantile(latencies, 0.95) ?? 0, errors, hammer };
}

/** One G8 episode of NEIGHBOUR_MS, with new client addresses; the two clients start together. */
async function neighbourEpisode(
  s: Shared,
  withHammer: boolean,
): Promise<{ latencies: number[]; errors: number; hammer: HammerTally | null }> {
  clientNo++;
  const n = clientNo % 250;
  const [lightChild, hammerChild] = await Promise.all([
    readyChild<{ latencies: number[]; errors: number }>([
      "--light",
      s.slotlineDefaults,
      String(NEIGHBOUR_MS),
      `198.51.100.${n}`,
      `192.0.2.${n}`,
      JSON.stringify(s.neighbourQueries),
    ]),
    withHammer
      ? readyChild<HammerTally>([
          "--hammer",
          s.slotlineDefaults,
          String(NEIGHBOUR_MS),
          `203.0.113.${n}`,
          JSON.stringify(s.hammerQueries),
        ])
      : null,
  ]);
  const [l, hammer] = await Promise.all([lightChild.go(), hammerChild?.go() ?? null]);
  return { ...l, hammer };
}

/** The three pages' entry names, in the order of `questions`. */
const PAGE_NAMES = ["api-token-page", "api-pool-page", "api-wallet-swaps"];

/** Both servers must answer the question without errors before it is measured: slotline at `url`, and PostGraphile. */
async function mustAnswer(q: Question, url: string): Promise<void> {
  const s = await shared!;
  for (const [to, query] of [
    [url, q.slotline],
    [s.postgraphile, q.postgraphile],
  ] as const) {
    const r = await fetch(to, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query }),
    });
    const text = await r.text();
    if (!r.ok || text.includes('"errors"')) throw new Error(`${to} cannot answer ${q.name}: ${text.slice(0, 500)}`);
  }
}

/** The database and servers every entry of this suite uses, started by the first entry that runs. */
let shared: Promise<Shared> | undefined;

const suite: BenchSuite = {
  name: "api",
  async teardown() {
    if (shared) await (await shared).stop();
    shared = undefined;
  },
  entries() {
    /** An entry's setup: starts (once) the database and servers the entries share; the suite's teardown stops them. */
    const join = (): Promise<Shared> => (shared ??= prepare());
    const latest = new Map<string, { slotline: Load; postgraphile: Load }>();
    /**
     * One page's entry. The engine (`live` false): the API with its response cache off, every request runs its SQL,
     * against PostGraphile. Live: the same page as shipped, on a live chain: the response cache on, while a writer
     * child stores a block every BLOCK_MS and publishes its event (each one invalidates every cached answer), against
     * PostGraphile under the same writes; what a dashboard's viewers of one hot page get while the indexer keeps up
     * with mainnet.
     */
    const pageEntry = (i: number, live: boolean): BenchEntry => {
      let q: Question;
      const name = live ? `${PAGE_NAMES[i]}-live` : PAGE_NAMES[i]!;
      const server = (s: Shared) => (live ? s.slotlineCached : s.slotline);
      const run = (s: Shared, url: string, query: string) =>
        live ? s.whileWriting(() => load(url, query)) : load(url, query);
      const record = (side: "slotline" | "postgraphile", r: Load) =>
        latest.set(name, { ...(latest.get(name) ?? { slotline: r, postgraphile: r }), [side]: r });
      return {
        name,
        description: live
          ? `the API as shipped (response cache on; rate limit off: the load is one client address), ${CLIENTS} concurrent clients, ${MEASURE_MS / 1000} s per run, while a child process stores a block every ${BLOCK_MS} ms and publishes its event; reference: PostGraphile under the same writes`
          : `${CLIENTS} concurrent clients, ${MEASURE_MS / 1000} s per run`,
        unit: "req/s",
        higherIsBetter: true,
        async setup() {
          const s = await join();
          q = s.questions[i]!;
          await mustAnswer(q, server(s));
        },
        async measure() {
          const s = await shared!;
          const r = await run(s, server(s), q.slotline);
          record("slotline", r);
          return r.rps;
        },
        reference: {
          name: live ? "postgraphile, same writes" : "postgraphile",
          async measure() {
            const s = await shared!;
            const r = await run(s, s.postgraphile, q.postgraphile);
            record("postgraphile", r);
            return r.rps;
          },
        },
        async details() {
          const l = latest.get(name)!;
          const f = (x: number) => Math.round(x * 10) / 10;
          const figures: Record<string, string | number> = {
            question: q.description,
            "slotline p50 ms": f(l.slotline.p50),
            "slotline p99 ms": f(l.slotline.p99),
            "postgraphile p50 ms": f(l.postgraphile.p50),
            "postgraphile p99 ms": f(l.postgraphile.p99),
          };
          if (live) {
            // how the cached server answered, over every run so far (Prometheus text of its /metrics)
            const metrics = await (
              await fetch((await shared!).slotlineCached.replace(/\/graphql$/, "/metrics"), {
                headers: { "x-api-key": BENCH_METRICS_KEY },
              })
            ).text();
            figures["response cache so far"] = [
              ...metrics.matchAll(/^slotline_api_response_cache_total\{outcome="(\w+)"\} (\d+)/gm),
            ]
              .map((m) => `${m[1]} ${m[2]}`)
              .join(", ");
          }
          figures.errors = l.slotline.errors + l.postgraphile.errors;
          return figures;
        },
      };
    };
    const pages = [0, 1, 2].map((i) => pageEntry(i, false));
    const live = [0, 1, 2].map((i) => pageEntry(i, true));
    /**
     * G5: the same writes with the API idle, against a flood of the API as shipped, and of the API with rate limiting
     * off.
     */
    const floodEntry = (name: string, target: (s: Shared) => string, what: string): BenchEntry => {
      let flood: Awaited<ReturnType<typeof writeThroughput>> | undefined;
      return {
        name,
        description: `indexer store writes (slots/s) while a child process sends ${FLOOD_RPS} slow queries/s to ${what}, against the same writes with the API idle (target: at least 0.9x)`,
        // five runs each way: a 5 s write sample on 2 shared cores varies by 10-15% run to run, the size of the target
        runs: 5,
        unit: "slots/s",
        higherIsBetter: true,
        async setup() {
          await join();
        },
        async measure() {
          const s = await shared!;
          flood = await writeThroughput(s, target(s));
          return flood.slotsPerSecond;
        },
        reference: {
          name: "no API load",
          async measure() {
            return (await writeThroughput(await shared!, null)).slotsPerSecond;
          },
        },
        async details() {
          return {
            query: "swaps filtered by a different unknown dex each time (no index: a full scan) with totalCount",
            "flood requests sent (final repetition)": flood?.sent ?? 0,
            "answered with data": flood?.answered ?? 0,
            "refused (coded errors)": flood?.refused ?? 0,
            codes: JSON.stringify(flood?.codes ?? {}),
          };
        },
      };
    };
    const writes = floodEntry(
      "api-flood-writes",
      (s) => s.slotlineDefaults,
      "the API as shipped (rate limit, response cache, statement timeout at their defaults; one client address)",
    );
    const writesOpen = floodEntry(
      "api-flood-writes-no-rate-limit",
      (s) => s.slotline,
      "the API with rate limiting and the response cache off (what many distinct clients would get)",
    );
    /** G8: a heavy client next to a light one, against the light one alone. */
    let g8: Awaited<ReturnType<typeof neighbourP95>> | undefined;
    const neighbour: BenchEntry = {
      name: "api-rate-limit-neighbour-p95",
      description: `p95 latency of a client sending ${NEIGHBOUR_RPS} cached wallet pages/s while another sends ${HAMMER_RPS} distinct token pages/s (each a process with its own X-Forwarded-For; the API as shipped: per-client budget of 50,000 cost units a minute), over ${NEIGHBOUR_EPISODES} episodes of ${NEIGHBOUR_MS / 1000} s, against the same client alone (target: at most 1.2x)`,
      unit: "ms",
      higherIsBetter: false,
      runs: 5,
      async setup() {
        await join();
      },
      async measure() {
        g8 = await neighbourP95(await shared!, true);
        return g8.p95;
      },
      reference: {
        name: "the client alone",
        async measure() {
          return (await neighbourP95(await shared!, false)).p95;
        },
      },
      async details() {
        return {
          "heavy client's requests (final repetition)": g8?.hammer?.sent ?? 0,
          "its answers by code": JSON.stringify(g8?.hammer?.codes ?? {}),
          "light client's failed requests": g8?.errors ?? 0,
        };
      },
    };
    /**
     * What the machine allows at all: graphql-yoga alone (no database, no slotline code) under the same load, against
     * node:http alone. The three pages' p99 target (50 ms at 64 clients) reads against these in the same run.
     */
    const floors = new Map<string, Load>();
    const urls = new Map<string, string>();
    const floorServers: ChildProcess[] = [];
    const floor: BenchEntry = {
      name: "api-yoga-floor",
      description: `graphql-yoga alone (its defaults, a one-field query answered from memory with 7 KB: no database, no slotline code), ${CLIENTS} concurrent clients, ${MEASURE_MS / 1000} s per run, against node:http alone sending the same bytes`,
      unit: "req/s",
      higherIsBetter: true,
      async setup() {
        for (const kind of ["yoga-floor", "http-floor"]) {
          const s = await startServer(kind, "");
          floorServers.push(s.child);
          process.once("exit", () => s.child.kill("SIGTERM"));
          urls.set(kind, s.url);
        }
      },
      async measure() {
        const r = await load(urls.get("yoga-floor")!, FLOOR_QUERY);
        floors.set("yoga", r);
        return r.rps;
      },
      reference: {
        name: "node:http alone",
        async measure() {
          const r = await load(urls.get("http-floor")!, FLOOR_QUERY);
          floors.set("http", r);
          return r.rps;
        },
      },
      async details() {
        const f = (x: number | undefined) => Math.round((x ?? 0) * 10) / 10;
        const y = floors.get("yoga");
        const h = floors.get("http");
        return {
          "yoga p50 ms": f(y?.p50),
          "yoga p99 ms": f(y?.p99),
          "node:http p50 ms": f(h?.p50),
          "node:http p99 ms": f(h?.p99),
          errors: (y?.errors ?? 0) + (h?.errors ?? 0),
        };
      },
      async teardown() {
        for (const c of floorServers.splice(0)) c.kill("SIGTERM");
      },
    };
    return [floor, ...pages, ...live, neighbour, writes, writesOpen];
  },
};

export default suite;

if (process.argv[2] === "--writer") await writer(process.argv[3]!, process.argv[4]!, Number(process.argv[5]));
if (process.argv[2] === "--serve") await serve(process.argv[3]!, process.argv[4]!, process.argv[5] ?? "");
if (process.argv[2] === "--flood") await flood(process.argv[3]!, Number(process.argv[4]));
if (process.argv[2] === "--hammer")
  await hammer(process.argv[3]!, Number(process.argv[4]), process.argv[5]!, JSON.parse(process.argv[6]!) as string[]);
if (process.argv[2] === "--light")
  await light(
    process.argv[3]!,
    Number(process.argv[4]),
    process.argv[5]!,
    process.argv[6]!,
    JSON.parse(process.argv[7]!) as string[],
  );
