/**
 * Work across hosts: network namespaces stand for machines. Postgres and Redis run on a "db" host, ingest on its own,
 * two worker hosts and two API hosts; the local chain (the RPC node) listens on the bridge's root address. A worker
 * host's link is cut in the middle of the run: its jobs are taken over by the other (their locks expire) and every
 * table's digest equals the fault-free run's. An API host is cut: the other keeps answering.
 * Needs root and `ip netns` (CI runs as root); skipped with the reason otherwise.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Chain, createChain } from "../../../devchain/index.js";
import { runMigrations } from "../../../core/migrate.js";
import { ingestEnv } from "../../setup/ingest-env.js";
import { type HostNetwork, createHostNetwork, netnsUnavailable } from "../../setup/netns.js";
import {
  type PrivatePostgres,
  type PrivateRedis,
  startPrivatePostgres,
  startPrivateRedis,
} from "../../setup/private-services.js";
import { type SlotlineProcess, spawnSlotline, waitFor } from "../../setup/processes.js";
import { uniquePrefix, withDatabase } from "../../setup/services.js";
import { expectConverged, produce } from "./converge.js";

const unavailable = await netnsUnavailable();
if (unavailable) process.stdout.write(`hosts.test.ts skipped: ${unavailable}\n`);

const OPS_PORT = 9464;
const API_PORT = 4000;

let net: HostNetwork;
let pg: PrivatePostgres;
let redis: PrivateRedis;
let chain: Chain;
const procs: SlotlineProcess[] = [];

beforeAll(async () => {
  if (unavailable) return;
  net = await createHostNetwork(["db", "ingest", "w1", "w2", "a1", "a2"]);
  // A host that vanishes mid-transaction leaves its session open on the server: these settings end it within
  // seconds, so its row locks do not hold up the host that takes its jobs over (docs/scaling.md).
  pg = await startPrivatePostgres({
    netns: net.ns("db"),
    host: net.addr("db"),
    settings: {
      idle_in_transaction_session_timeout: "5s",
      tcp_keepalives_idle: "2",
      tcp_keepalives_interval: "1",
      tcp_keepalives_count: "3",
      tcp_user_timeout: "5000",
    },
  });
  redis = await startPrivateRedis({ netns: net.ns("db"), host: net.addr("db") });
  chain = await createChain({
    host: net.gateway,
    port: 0,
    autoProduce: false,
    syntheticTps: 200,
    slotMs: 400,
    finalityLag: 4,
  });
}, 120_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill("SIGKILL")));
  await chain?.close();
  await redis?.destroy();
  await pg?.destroy();
  await net?.destroy();
});

async function opsMetric(host: string, name: string): Promise<number> {
  const text = await (
    await fetch(`http://${net.addr(host)}:${OPS_PORT}/metrics`, { signal: AbortSignal.timeout(2_000) })
  ).text();
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "gm"))) sum += Number(m[1]);
  return sum;
}

async function latestSlot(host: string): Promise<number | null> {
  const r = await fetch(`http://${net.addr(host)}:${API_PORT}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: "{ indexerStatus { latestSlot } }" }),
    signal: AbortSignal.timeout(3_000),
  });
  return ((await r.json()) as { data: { indexerStatus: { latestSlot: number | null } } }).data.indexerStatus.latestSlot;
}

describe.skipIf(unavailable !== null)("hosts on network namespaces", () => {
  test("a worker host cut mid-run: its jobs are taken over, every table equals the fault-free run; an API host cut: the other answers", async () => {
    const dbUrl = withDatabase(pg.adminUrl, "slotline");
    await runMigrations(dbUrl);
    const env = ingestEnv(chain, dbUrl, redis.url, uniquePrefix(), {
      START_SLOT: String(chain.slot("processed") + 1),
      WS_STALL_MS: "1500",
      WORKER_LOCK_MS: "4000",
      WORKER_CONCURRENCY: "2",
      METRICS_PORT: String(OPS_PORT),
      API_PORT: String(API_PORT),
    });
    const on = (host: string, command: string, extra: Record<string, string> = {}) => {
      const p = spawnSlotline([command], { ...env, ...extra }, { netns: net.ns(host) });
      procs.push(p);
      return p;
    };
    const ingest = on("ingest", "ingest");
    // w1 holds each store transaction open (rows written and locked, not committed) for 1.5 s: when its link is cut
    // it is all but certain to leave one open on Postgres and its jobs active in Redis.
    const w1 = on("w1", "worker", { SLOTLINE_FAILPOINTS: "slot.afterCheckpointBeforeCommit:sleep(1500)" });
    const w2 = on("w2", "worker");
    const a1 = on("a1", "api");
    const a2 = on("a2", "api");

    // At most about 45 slots in all: past them the recorded history burns a mint whose supply the local chain
    // derives as 0 and serves clamped at 0 (devchain/accounts.ts), so a read before that burn and the reference's
    // read after it disagree by the burn whatever slotline does (seen with no host cut at all).
    await produce(chain, 15, 300);
    await waitFor(
      "both worker hosts to store slots",
      async () =>
        (await opsMetric("w1", "slotline_slots_stored_total")) > 0 &&
        (await opsMetric("w2", "slotline_slots_stored_total")) > 0,
      60_000,
      300,
    );
    const w1Before = await opsMetric("w1", "slotline_slots_stored_total");
    const w2Before = await opsMetric("w2", "slotline_slots_stored_total");

    await net.cut("w1");
    await produce(chain, 20, 300);
    // w1 is unreachable; w2 goes on with its own and w1's jobs.
    await expect(opsMetric("w1", "slotline_slots_stored_total")).rejects.toThrow();
    await waitFor(
      "w2 to store more",
      async () => (await opsMetric("w2", "slotline_slots_stored_total")) > w2Before + 10,
      60_000,
      300,
    );

    expect(await latestSlot("a1")).toBeGreaterThan(0);
    await net.cut("a2");
    await expect(latestSlot("a2")).rejects.toThrow();
    for (let i = 0; i < 5; i++) expect(await latestSlot("a1")).toBeGreaterThan(0);

    // The cut hosts' processes are gone with their hosts; the rest must converge and stop cleanly.
    await w1.kill("SIGKILL");
    await a2.kill("SIGKILL");
    const takenOver = await opsMetric("w2", "slotline_jobs_stalled_total");
    const { indexed } = await expectConverged(
      { chain, db: { url: dbUrl, name: "slotline", drop: async () => {} }, procs: [ingest, w2, a1], env },
      { timeoutMs: 90_000 },
    );
    process.stdout.write(
      `hosts: w1 stored ${w1Before} slots before its link was cut, w2 ${w2Before}; w2 took over ${takenOver} stalled job(s); all ${indexed.length} slots equal to the fault-free run\n`,
    );
  }, 300_000);
});
