/**
 * `npm run test:abuse`: the API as deployed (`slotline api`, its defaults but for the caps named below) over a
 * database the store filled with real mainnet blocks, against hostile clients running at the same time from child
 * processes at `nice -n 19` (so that on a small machine they take the CPU the API leaves): 500 SSE and 200 graphql-ws
 * subscriptions, oversized WebSocket messages and idle sockets, 100 slowloris sockets and 1,000 invalid documents a
 * second. Meanwhile a dashboard client asks for the bench's three pages and /health is probed every 250 ms.
 * Holds: the dashboard's p99 under abuse stays under twice its p99 alone; every probe answers 200; the API's RSS
 * and Redis' memory stay within explicit bounds; every abusive request gets its code.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, inject, onTestFinished, test } from "vitest";
import { shiftBlock } from "../../bench/relabel.js";
import { createDb } from "../../core/db.js";
import { eventsChannel } from "../../core/events.js";
import { createStore } from "../../indexer/store/index.js";
import { loadFixtureBlocks } from "../integration/api/harness.js";
import { REPO_ROOT } from "../setup/fixtures.js";
import { freePort } from "../setup/private-services.js";
import { type SlotlineProcess, spawnSlotline, waitFor } from "../setup/processes.js";
import { createTestDatabase, uniquePrefix } from "../setup/services.js";

/** Copies of the two mainnet blocks stored (each later in slots and time, with its own signatures). */
const COPIES = 20;
/** Swaps in each published event (see the publisher). */
const SWAPS_PER_EVENT = 4;
/** The dashboard: page requests a second, and how long each of its two runs lasts. */
const DASHBOARD_RPS = 20;
const DASHBOARD_MS = 30_000;
/** Caps the API runs with: the process' subscriptions (default 10,000) lowered so the suite reaches it. */
const MAX_SUBSCRIPTIONS = 500;
const PER_CLIENT = 20; // API_SUBSCRIPTIONS_PER_CLIENT's default
const PER_SOCKET = 10; // API_SUBSCRIPTIONS_PER_SOCKET's default
const WS_IDLE_MS = 10_000;
const WS_MAX_MESSAGE = 65_536; // API_WS_MAX_MESSAGE_BYTES' default
/**
 * Each client's budget, in cost units a minute (default 50,000): lowered so that the greedy flood address runs out
 * within seconds at the rate a niced client reaches on a loaded machine. The dashboard spreads its users over 40
 * addresses, each well within it.
 */
const RATE_LIMIT = 20_000;
/** How long the server gives a client to send its headers (api/server/main.ts HEADERS_TIMEOUT_MS). */
const HEADERS_TIMEOUT_MS = 10_000;
/** The bounds asserted (and why these numbers: see docs/reliability.md). */
const MAX_RSS_GROWTH_MB = 250;
const MAX_REDIS_GROWTH_MB = 32;

const CLIENTS = path.join(REPO_ROOT, "test/abuse/clients.ts");
/** ABUSE_CPU_PROF=<dir>: the API runs with `--cpu-prof` into that folder (stopped by SIGTERM, so it writes it). */
const CPU_PROF = process.env.ABUSE_CPU_PROF;
/** Progress on stderr, so a slow or stuck run shows where it is. */
const log = (what: string) => process.stderr.write(`${new Date().toISOString()} abuse: ${what}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const range = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i));

/** A client child process: waits for its "ready", then `send` writes a line, `result` is its last JSON line. */
type Client = { send(line: string): void; ready: Promise<void>; result: Promise<any>; child: ChildProcess };

function startClient(kind: string, options: unknown, niced: boolean): Client {
  const node = [process.execPath, "--import", "tsx", CLIENTS, kind, JSON.stringify(options)];
  const child = niced
    ? spawn("nice", ["-n", "19", ...node], { cwd: REPO_ROOT, stdio: ["pipe", "pipe", "pipe"] })
    : spawn(node[0]!, node.slice(1), { cwd: REPO_ROOT, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let last = "";
  let onReady: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  createInterface({ input: child.stdout! }).on("line", (l) => {
    if (l === "ready") onReady();
    else last = l;
  });
  const result = new Promise((resolve, reject) =>
    child.once("exit", (code) =>
      code === 0 && last ? resolve(JSON.parse(last)) : reject(new Error(`${kind} exited ${code}: ${stderr}`)),
    ),
  );
  const late = new Promise<never>((_, reject) => {
    const t = setTimeout(() => reject(new Error(`${kind} not ready within 120 s: ${stderr}`)), 120_000);
    void ready.then(() => clearTimeout(t));
  });
  late.catch(() => {});
  return {
    child,
    ready: Promise.race([ready, result.then(() => {}), late]).then(() => void log(`${kind} ready`)),
    result,
    send: (line) => void child.stdin!.write(`${line}\n`),
  };
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
};
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
/** utime + stime of `pid` in clock ticks (100 a second): a difference over 5 s is 5x the CPU percentage. */
const cpuTicks = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Math.round((Number(f[11]) + Number(f[12])) / 5);
};
const redisMb = async (redis: Redis) => Number(/used_memory:(\d+)/.exec(await redis.info("memory"))![1]) / 2 ** 20;

/** The bench's three dashboard pages (bench/entries/api.ts), over the busiest tokens, pools and wallets stored. */
function pages(v: { mints: string[]; pools: string[]; wallets: string[]; since: string }): string[] {
  const out: string[] = [];
  for (let i = 0; i < v.mints.length; i++) {
    out.push(
      `{ token(mint: "${v.mints[i]}") { mint decimals supply symbol pools(first: 10) { edges { node { address dex reserveA reserveB } } }
        transfers(first: 20) { edges { node { signature amount source destination blockTime } } } } }`,
      `{ pool(address: "${v.pools[i % v.pools.length]}") { address dex reserveA reserveB tokenA { mint decimals } tokenB { mint decimals }
        swaps(first: 20) { edges { node { signature trader amountIn amountOut blockTime } } }
        candles(interval: H1, from: "${v.since}") { start open high low close volumeA swaps } } }`,
      `{ account(address: "${v.wallets[i % v.wallets.length]}") { swaps(first: 50) { edges { node { signature pool { address } mintIn mintOut amountIn amountOut blockTime } } } } }`,
    );
  }
  return out;
}

const SUBSCRIPTIONS = [
  "subscription { slots { slot txCount } }",
  "subscription { swaps { signature amountIn amountOut pool { address dex } } }",
];

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let api: SlotlineProcess;
let redis: Redis;
let publisher: ReturnType<typeof setInterval> | undefined;
const clients: Client[] = [];

afterAll(async () => {
  if (publisher) clearInterval(publisher);
  for (const c of clients) c.child.kill("SIGKILL");
  if (CPU_PROF && api) {
    const killer = setTimeout(() => void api.kill("SIGKILL"), 30_000);
    await api.kill("SIGTERM");
    clearTimeout(killer);
  }
  await api?.kill("SIGKILL");
  redis?.disconnect();
  await database?.drop();
});

let url: string;
let port: number;
let prefix: string;
let v: { mints: string[]; pools: string[]; wallets: string[]; since: string };

beforeAll(async () => {
  database = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
  const writer = createDb(database.url, { max: 2 });
  const store = createStore({ db: writer });
  const blocks = loadFixtureBlocks();
  for (let j = 0; j < COPIES; j++) {
    const copy = blocks.map((b) => {
      const c = structuredClone(b);
      if (j > 0) shiftBlock(c, 100 * j, 40_000 * j, (_k, old) => `${old}${j}`);
      return c;
    });
    await store.writeBlocks(copy, { commitment: "confirmed" });
  }
  log("database filled");
  const sql = writer.$client;
  const list = async (q: string) => (await sql.query<{ v: string }>(q)).rows.map((r) => r.v);
  v = {
    mints: await list("select mint as v from token_transfers group by mint order by count(*) desc limit 10"),
    pools: await list("select pool as v from swaps group by pool order by count(*) desc limit 10"),
    wallets: await list("select trader as v from swaps group by trader order by count(*) desc limit 10"),
    since: new Date(
      (await sql.query<{ t: Date }>("select max(block_time) as t from swaps")).rows[0]!.t.getTime() - 86_400_000,
    ).toISOString(),
  };
  // Events as the worker publishes them after a stored batch, one every 400 ms: a stored slot with 4 of its swaps. Not
  // all of them: a whole mainnet block carries hundreds, pushed to each of the 350 swap subscribers with its pool read
  // (a firehose, whose cost is the number of subscribers times the swaps: a capacity question, not this suite's).
  const swaps = (
    await sql.query(
      `select signature, instruction_path as "instructionPath", pool, trader, mint_in as "mintIn", mint_out as "mintOut",
        amount_in::text as "amountIn", amount_out::text as "amountOut", slot::int as slot,
        extract(epoch from block_time)::int as "blockTime" from swaps order by slot`,
    )
  ).rows;
  const slots = [...new Set(swaps.map((s) => s.slot as number))];
  await sql.end();

  prefix = uniquePrefix();
  port = await freePort();
  url = `http://127.0.0.1:${port}/graphql`;
  api = spawnSlotline(
    ["api"],
    {
      DATABASE_URL: database.url,
      REDIS_URL: inject("redisUrl"),
      QUEUE_PREFIX: prefix,
      API_PORT: String(port),
      API_MAX_SUBSCRIPTIONS: String(MAX_SUBSCRIPTIONS),
      API_WS_IDLE_MS: String(WS_IDLE_MS),
      API_RATE_LIMIT: String(RATE_LIMIT),
      LOG_FORMAT: "json",
    },
    { nodeArgs: CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${path.resolve(CPU_PROF)}`] : [] },
  );
  void api.exited.then((code) => log(`the API exited (${code}): ${api.output().slice(-4000)}`));
  await waitFor("the API to answer /health", async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok, 60_000);
  redis = new Redis(inject("redisUrl"));
  let n = 0;
  publisher = setInterval(() => {
    const slot = slots[n++ % slots.length]!;
    const event = {
      type: "batch",
      slots: [slot],
      swaps: swaps.filter((s) => s.slot === slot).slice(0, SWAPS_PER_EVENT),
      transactions: [],
    };
    void redis.publish(eventsChannel(prefix), JSON.stringify(event));
  }, 400);
}, 300_000);

test("under 700 subscribers, 100 slowloris sockets and 1,000 invalid documents a second the dashboard stays fast, /health answers, memory stays bounded and every abuse gets its code", async () => {
  const dashboardOptions = {
    url,
    pages: pages(v),
    rps: DASHBOARD_RPS,
    ms: DASHBOARD_MS,
    addresses: range(40, (i) => `127.0.10.${i + 1}`),
  };
  // progress every 5 s: the API's RSS, its CPU share since the last line, and one /health round trip from here
  let cpuBefore = cpuTicks(api.child.pid!);
  const progress = setInterval(() => {
    const t = performance.now();
    const cpu = cpuTicks(api.child.pid!);
    void fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(4_000) })
      .then(
        (r) => r.status,
        (e: Error) => e.name,
      )
      .then((status) =>
        log(
          `api rss ${rssMb(api.child.pid!).toFixed(0)} MB, cpu ${cpu - cpuBefore}% over 5 s, /health ${status} in ${(performance.now() - t).toFixed(0)} ms`,
        ),
      )
      .finally(() => (cpuBefore = cpu));
  }, 5_000);
  onTestFinished(() => clearInterval(progress));
  const probe = startClient("probe", { url: `http://127.0.0.1:${port}/health`, everyMs: 250 }, false);
  clients.push(probe);
  await probe.ready;
  probe.send("go");

  // 1. the dashboard alone
  const alone = startClient("dashboard", dashboardOptions, false);
  clients.push(alone);
  await alone.ready;
  const before = { rss: rssMb(api.child.pid!), redis: await redisMb(redis) };
  alone.send("go");
  const quiet = await alone.result;

  // 2. the abusers, then the dashboard again among them
  const sseAddresses = range(20, (i) => `127.0.20.${i + 1}`);
  const wsSockets = range(16, (i) => `127.0.30.${i + 1}`).map((address, i) => ({
    address,
    subscriptions: i < 8 ? 12 : 13,
  }));
  const invalidAddresses = range(21, (i) => `127.0.50.${i + 1}`);
  const sse = startClient("sse", { url, addresses: sseAddresses, perAddress: 25, queries: SUBSCRIPTIONS }, true);
  const ws = startClient(
    "ws",
    {
      url,
      sockets: wsSockets,
      queries: SUBSCRIPTIONS,
      oversized: range(10, (i) => `127.0.31.${i + 1}`).map((address) => ({ address, bytes: 2 * WS_MAX_MESSAGE })),
      idle: range(10, (i) => `127.0.32.${i + 1}`),
    },
    true,
  );
  const slowloris = startClient(
    "slowloris",
    { host: "127.0.0.1", port, addresses: range(10, (i) => `127.0.40.${i + 1}`), sockets: 100, byteEveryMs: 500 },
    true,
  );
  // 20 addresses send 1/40 of the flood each (within their budget however fast the flood goes: 25 a second at most,
  // charged the minimum 10 units apiece), the last one half of it (over its budget: cut off with RATE_LIMITED). A flood
  // client holds at most 4 sockets per address: requests past them wait in the client, not in the server.
  const invalid = startClient(
    "invalid",
    {
      url,
      addresses: invalidAddresses,
      shares: [...Array(20).fill(1), 20],
      rps: 1_000,
      maxInFlight: 2_000,
      socketsPerAddress: 4,
    },
    true,
  );
  clients.push(sse, ws, slowloris, invalid);
  await Promise.all([sse.ready, ws.ready, slowloris.ready, invalid.ready]);
  invalid.send("go");
  const abused = startClient("dashboard", dashboardOptions, false);
  clients.push(abused);
  await abused.ready;
  const samples: { rss: number; redis: number }[] = [];
  const sampler = setInterval(
    () => void redisMb(redis).then((r) => samples.push({ rss: rssMb(api.child.pid!), redis: r })),
    250,
  );
  abused.send("go");
  const loud = await abused.result;
  log("dashboard done; stopping the abusers");
  for (const c of [sse, ws, slowloris, invalid]) c.send("stop");
  const [sseResult, wsResult, slowResult, invalidResult] = await Promise.all(
    [sse, ws, slowloris, invalid].map((c) => c.result),
  );
  clearInterval(sampler);
  probe.send("stop");
  const probeResult = await probe.result;
  await sleep(3_000);
  const after = { rss: rssMb(api.child.pid!), redis: await redisMb(redis) };

  const peak = {
    rss: Math.max(...samples.map((s) => s.rss)),
    redis: Math.max(...samples.map((s) => s.redis)),
  };
  const figures = {
    p99: { alone: quantile(quiet.latencies, 0.99), abused: quantile(loud.latencies, 0.99) },
    p50: { alone: quantile(quiet.latencies, 0.5), abused: quantile(loud.latencies, 0.5) },
    dashboard: { alone: quiet.codes, abused: loud.codes },
    rssMb: { before: before.rss, peak: peak.rss, after: after.rss },
    redisMb: { before: before.redis, peak: peak.redis, after: after.redis },
    probes: { statuses: probeResult.statuses, maxMs: Math.max(...probeResult.latencies) },
    sse: sseResult,
    ws: wsResult,
    slowloris: {
      opened: slowResult.opened,
      answers: slowResult.answers,
      stillOpen: slowResult.stillOpen,
      lifetimeMs: { min: Math.min(...slowResult.lifetimes), max: Math.max(...slowResult.lifetimes) },
    },
    invalid: {
      sent: invalidResult.sent,
      skipped: invalidResult.skipped,
      perSecond: invalidResult.sent / invalidResult.seconds,
      codes: invalidResult.codes,
      greedy: invalidResult.byAddress[invalidAddresses.at(-1)!],
    },
  };
  console.log(JSON.stringify(figures, null, 1));

  // the dashboard: every page answered, p99 under abuse under twice its p99 alone
  expect(Object.keys(quiet.codes)).toEqual(["OK"]);
  expect(Object.keys(loud.codes)).toEqual(["OK"]);
  expect(figures.p99.abused).toBeLessThan(2 * figures.p99.alone);
  // /health on every probe
  expect(probeResult.statuses).toEqual({ 200: probeResult.latencies.length });
  // memory
  expect(peak.rss - before.rss).toBeLessThan(MAX_RSS_GROWTH_MB);
  expect(peak.redis - before.redis).toBeLessThan(MAX_REDIS_GROWTH_MB);

  // subscriptions: the process' cap reached exactly, each client's and socket's held, every refusal coded
  const admitted = (sseResult.outcome.admitted ?? 0) + (wsResult.outcome.admitted ?? 0);
  expect(admitted).toBe(MAX_SUBSCRIPTIONS);
  for (const n of Object.values(sseResult.perAddress) as number[]) expect(n).toBeLessThanOrEqual(PER_CLIENT);
  for (const n of wsResult.perSocket as number[]) expect(n).toBeLessThanOrEqual(PER_SOCKET);
  for (const o of [sseResult.outcome, wsResult.outcome])
    expect(Object.keys(o).filter((k) => !["admitted", "RATE_LIMITED", "OVERLOADED"].includes(k))).toEqual([]);
  expect(
    (sseResult.outcome.RATE_LIMITED ?? 0) +
      (sseResult.outcome.OVERLOADED ?? 0) +
      (wsResult.outcome.RATE_LIMITED ?? 0) +
      (wsResult.outcome.OVERLOADED ?? 0),
  ).toBe(500 + 200 - MAX_SUBSCRIPTIONS);
  // both caps refused some: the clients' (and sockets') and the process'
  expect((sseResult.outcome.RATE_LIMITED ?? 0) + (wsResult.outcome.RATE_LIMITED ?? 0)).toBeGreaterThan(0);
  expect((sseResult.outcome.OVERLOADED ?? 0) + (wsResult.outcome.OVERLOADED ?? 0)).toBeGreaterThan(0);
  expect(sseResult.endedByServer).toBe(0);
  expect(sseResult.pushed).toBeGreaterThan(0);
  // WebSocket messages over the cap: closed 1009; acknowledged sockets that send nothing: closed 4408
  // (a subscriber socket whose every subscription was refused holds none: it is idle, and closed 4408 too)
  const emptySockets = (wsResult.perSocket as number[]).filter((n) => n === 0).length;
  expect(wsResult.closes).toEqual({
    "oversized:1009": 10,
    "idle:4408": 10,
    ...(emptySockets ? { "subscriber:4408": emptySockets } : {}),
  });

  // slowloris: every socket answered 408 and closed by the headers timeout, none lived much past it
  expect(Object.keys(slowResult.answers)).toEqual(["408"]);
  expect(slowResult.opened).toBeGreaterThanOrEqual(200);
  expect(figures.slowloris.lifetimeMs.max).toBeLessThan(HEADERS_TIMEOUT_MS + 5_000);

  // invalid documents: parse and validation codes; the greedy address cut off, its refusals coded too
  expect(Object.keys(invalidResult.codes).sort()).toEqual(
    ["GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "RATE_LIMITED"].sort(),
  );
  expect(figures.invalid.greedy?.RATE_LIMITED).toBeGreaterThan(0);
  for (const address of invalidAddresses.slice(0, -1))
    expect(invalidResult.byAddress[address].RATE_LIMITED ?? 0).toBe(0);
}, 600_000);
