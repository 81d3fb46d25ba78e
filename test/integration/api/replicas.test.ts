/**
 * DATABASE_READ_URLS against a real streaming replica: a private primary cluster and a hot standby copied from it
 * with pg_basebackup, both started and removed here. With the replica's replay paused, what the indexer has just
 * stored (and announced) must come from the primary, never the replica's older copy; the replica is taken out when it
 * lags or dies, and put back when it catches up or comes back.
 */
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { type RunningApi, startApi } from "../../../api/server/index.js";
import { parseConfig } from "../../../core/config.js";
import { type Db, createDb } from "../../../core/db.js";
import { eventsChannel } from "../../../core/events.js";
import { createLogger } from "../../../core/logger.js";
import { runMigrations } from "../../../core/migrate.js";
import type { DecodedBlock } from "../../../indexer/decode/index.js";
import { createEventPublisher, toEvent, walLsnReader } from "../../../indexer/pipeline/index.js";
import { createStore } from "../../../indexer/store/index.js";
import { type PrivatePostgres, startPrivatePostgres } from "../../setup/private-services.js";
import { withDatabase, uniquePrefix } from "../../setup/services.js";
import { SQL_MODE, loadFixtureBlocks } from "./harness.js";

const METRICS_KEY = "replica-test-metrics-key";

let primary: PrivatePostgres;
let replica: PrivatePostgres;
let writer: Db;
let api: RunningApi;
let redis: Redis;
let publish: (build: () => ReturnType<typeof toEvent>) => Promise<void>;
let blocks: DecodedBlock[];
const primaryDb = () => withDatabase(primary.adminUrl, "slotline");
const replicaDb = () => withDatabase(replica.adminUrl, "slotline");

async function one<T>(url: string, text: string): Promise<T | undefined> {
  const c = new pg.Client({ connectionString: url });
  c.on("error", () => {});
  await c.connect();
  try {
    return (await c.query(text)).rows[0] as T | undefined;
  } finally {
    await c.end();
  }
}

async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function gql<T = any>(query: string, variables?: object): Promise<T> {
  const r = await fetch(`${api.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await r.json()) as { data: T; errors?: unknown };
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  return body.data;
}

/** A read the response cache has not seen (each call asks a different page size), so it reaches Postgres. */
let uncached = 0;
const freshRead = async () => {
  const n = ++uncached;
  const d = await gql(`query($n: Int!) { transactions(first: $n) { edges { node { slot } } } }`, { n });
  expect(d.transactions.edges.length).toBeGreaterThan(0);
};

/** The API's replica series: state per replica, and checkouts per target. */
async function readMetrics(): Promise<{ state: Record<string, number>; checkouts: Record<string, number> }> {
  const text = await (await fetch(`${api.url}/metrics`, { headers: { "x-api-key": METRICS_KEY } })).text();
  const state: Record<string, number> = {};
  const checkouts: Record<string, number> = {};
  for (const m of text.matchAll(/^slotline_api_replica_state\{replica="[^"]+",state="(\w+)"\} (\d+)/gm))
    state[m[1]!] = Number(m[2]);
  for (const m of text.matchAll(/^slotline_api_read_checkouts\{target="([^"]+)"\} (\d+)/gm))
    checkouts[m[1] === "primary" ? "primary" : "replica"] = Number(m[2]);
  return { state, checkouts };
}

const replayedTo = async (url: string, lsn: string) =>
  (await one<{ ok: boolean }>(url, `select pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn as ok`))?.ok === true;

/** Stores `batch` on the primary and publishes its event as the worker does (with the commit's WAL position). */
async function storeAndAnnounce(batch: DecodedBlock[]): Promise<string> {
  await createStore({ db: writer }).writeBlocks(batch, { commitment: "confirmed" });
  await publish(() => toEvent(batch, []));
  // at or past the event's own
  return (await walLsnReader(writer)())!;
}

beforeAll(async () => {
  primary = await startPrivatePostgres();
  await runMigrations(primaryDb());
  replica = await startPrivatePostgres({ replicaOf: primary });
  writer = createDb(primaryDb(), { max: 2 });
  blocks = loadFixtureBlocks();
  const prefix = uniquePrefix();
  redis = new Redis(inject("redisUrl"), { maxRetriesPerRequest: 1 });
  publish = createEventPublisher(
    redis,
    eventsChannel(prefix),
    { batchEvents: { inc: () => {} } } as never,
    walLsnReader(writer),
  );
  const config = parseConfig({
    DATABASE_URL: primaryDb(),
    DATABASE_READ_URLS: replicaDb(),
    DATABASE_READ_MAX_LAG_MS: "300",
    REDIS_URL: inject("redisUrl"),
    QUEUE_PREFIX: prefix,
    API_METRICS_KEY: METRICS_KEY,
    API_RATE_LIMIT: "0",
    API_SQL_MODE: SQL_MODE,
    LOG_LEVEL: "silent",
  });
  api = await startApi({ config, logger: createLogger(config) }, { port: 0, host: "127.0.0.1" });
}, 120_000);

afterAll(async () => {
  await api?.close();
  redis?.disconnect();
  await writer?.$client.end();
  await replica?.destroy();
  await primary?.destroy();
});

describe("read replicas (DATABASE_READ_URLS)", () => {
  test("an announced batch is answered from the primary while the replica has not replayed it; the replica serves once it has", async () => {
    const half = Math.floor(blocks.length / 2);
    const [first, second] = [blocks.slice(0, half), blocks.slice(half)];
    const maxSlot = (bs: DecodedBlock[]) => Math.max(...bs.map((b) => b.slot));
    const newTx = second.flatMap((b) => b.transactions)[0]!.transaction.signature;
    const newSwap = second.flatMap((b) => b.transactions).find((t) => t.swaps.length)?.swaps[0];
    expect(newSwap, "the second half of the fixture blocks holds a swap").toBeDefined();

    const lsn1 = await storeAndAnnounce(first);
    await until("the replica to replay the first batch", () => replayedTo(replicaDb(), lsn1));
    await until("the API to see it", async () => (await readMetrics()).state.up === 1);
    const status = "{ indexerStatus { latestSlot } }";
    expect((await gql(status)).indexerStatus.latestSlot).toBe(maxSlot(first));
    // the API learns that the replica caught up at its next probe (every 500 ms): until then the primary answers
    const before = (await readMetrics()).checkouts;
    await until("caught up: the replica serves the reads", async () => {
      await freshRead();
      return ((await readMetrics()).checkouts.replica ?? 0) > (before.replica ?? 0);
    });

    // A subscriber of swaps, whose items read their transaction from the database.
    const sub = await fetch(`${api.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ query: "subscription { swaps { signature transaction { slot } } }" }),
    });
    const items = sseItems(sub.body!);
    await new Promise((r) => setTimeout(r, 300));

    await one(replicaDb(), "select pg_wal_replay_pause()");
    await until(
      "replay to pause",
      async () =>
        (await one<{ s: string }>(replicaDb(), "select pg_get_wal_replay_pause_state() as s"))?.s === "paused",
    );
    const lsn2 = await storeAndAnnounce(second);
    // The replica's own copy does not hold the second batch: an answer from it would be stale.
    expect(await replayedTo(replicaDb(), lsn2)).toBe(false);
    expect(await one(replicaDb(), `select 1 from transactions where signature = '${newTx}'`)).toBeUndefined();
    expect(
      (await one<{ n: number }>(replicaDb(), "select max(slot)::int as n from slots where status = 'indexed'"))!.n,
    ).toBe(maxSlot(first));

    // The cached generation, a plain answer and a subscription item all reflect the second batch.
    expect((await gql(status)).indexerStatus.latestSlot).toBe(maxSlot(second));
    expect((await gql(`query($s: String!) { transaction(signature: $s) { slot } }`, { s: newTx })).transaction).toEqual(
      {
        slot: second.find((b) => b.transactions.some((t) => t.transaction.signature === newTx))!.slot,
      },
    );
    const item = await nextMatching(items, (d) => d.swaps.signature === newSwap!.signature);
    expect(item.swaps.transaction, "the pushed swap's transaction, read from a server holding it").toEqual({
      slot: newSwap!.slot,
    });

    // Lagging past DATABASE_READ_MAX_LAG_MS: taken out.
    await until("the replica to be taken out", async () => (await readMetrics()).state.behind === 1, 10_000);
    const paused = (await readMetrics()).checkouts;
    await freshRead();
    expect((await readMetrics()).checkouts.replica).toBe(paused.replica);

    // Replay resumed: put back, and it serves again.
    await one(replicaDb(), "select pg_wal_replay_resume()");
    await until("the replica to be put back", async () => (await readMetrics()).state.up === 1, 10_000);
    for (let i = 0; i < 5; i++) await freshRead();
    expect((await readMetrics()).checkouts.replica!).toBeGreaterThan(paused.replica!);
    await items.return(undefined);
  }, 90_000);

  test("a replica that dies is taken out (the primary answers) and put back when it returns", async () => {
    await until("the replica up", async () => (await readMetrics()).state.up === 1);
    await replica.stop();
    // Every read is answered meanwhile, the first ones possibly by a connection found dead and replaced.
    await until("the replica to be taken out", async () => {
      await freshRead();
      return (await readMetrics()).state.down === 1;
    });
    const down = (await readMetrics()).checkouts;
    for (let i = 0; i < 5; i++) await freshRead();
    const after = (await readMetrics()).checkouts;
    expect(after.replica).toBe(down.replica);
    expect(after.primary!).toBeGreaterThan(down.primary!);

    await replica.start();
    await until("the replica to be put back", async () => (await readMetrics()).state.up === 1, 20_000);
    for (let i = 0; i < 5; i++) await freshRead();
    expect((await readMetrics()).checkouts.replica!).toBeGreaterThan(after.replica!);
  }, 60_000);
});

/** The data of each SSE `next` event of a response body. */
async function* sseItems(body: ReadableStream<Uint8Array>): AsyncGenerator<any> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      let i: number;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const chunk = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = chunk.split("\n").find((l) => l.startsWith("data:"));
        if (data && data.length > 6) yield JSON.parse(data.slice(5)).data;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

async function nextMatching(items: AsyncGenerator<any>, match: (d: any) => boolean): Promise<any> {
  const deadline = setTimeout(() => void items.return(undefined), 10_000);
  try {
    for (;;) {
      const { value, done } = await items.next();
      if (done) throw new Error("no matching subscription item within 10 s");
      if (match(value)) return value;
    }
  } finally {
    clearTimeout(deadline);
  }
}
