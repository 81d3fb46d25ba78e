/**
 * `slotline demo` run twice, as users do: each run starts a new local chain, so each must start over on the demo's
 * own database, never halting on the previous run's rows and never touching the database DATABASE_URL names. Each run
 * prints the dashboard's and the console's URLs, which serve the app when it is built (`npm run build:web`).
 */
import { Redis } from "ioredis";
import { afterAll, expect, test } from "vitest";
import { findWebRoot } from "../../api/server/web-plugin.js";
import { freePort } from "../setup/private-services.js";
import { type SlotlineProcess, spawnSlotline, waitFor } from "../setup/processes.js";
import { createTestDatabase, PG_ADMIN_URL, REDIS_URL, withDatabase } from "../setup/services.js";
import { query } from "../setup/ingest-env.js";

const running: SlotlineProcess[] = [];
afterAll(async () => {
  for (const p of running) await p.kill("SIGKILL");
});

type Status = { latestSlot: number | null; finalizedSlot: number | null; chainTip: number | null };

async function status(apiPort: number): Promise<Status> {
  const res = await fetch(`http://127.0.0.1:${apiPort}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: "{ indexerStatus { latestSlot finalizedSlot chainTip } }" }),
  });
  return ((await res.json()) as { data: { indexerStatus: Status } }).data.indexerStatus;
}

/**
 * One demo run (a slot every 100 ms): until the indexer has finalized past `past(its first status)` and stored what the
 * chain had by then; then Ctrl-C.
 */
async function demoRun(
  configured: string,
  past: (first: Status) => number,
): Promise<{ finalized: number; latest: number; output: string }> {
  const [apiPort, chainPort] = [await freePort(), await freePort()];
  const demo = spawnSlotline(["demo", "--chain-port", String(chainPort), "--slot-ms", "100"], {
    DATABASE_URL: configured,
    REDIS_URL,
    API_PORT: String(apiPort),
    LOG_FORMAT: "json",
  });
  running.push(demo);
  // it prints where the dashboard and the console are (`npm run demo` is this command), and they answer there
  const printed = (name: string) => demo.output().match(new RegExp(`^  ${name} +(http\\S+)$`, "m"))?.[1];
  await waitFor(
    "the demo to print its URLs and answer",
    async () => !!printed("Console") && (await status(apiPort)) != null,
  );
  expect(printed("Dashboard")).toBe(`http://127.0.0.1:${apiPort}/`);
  expect(printed("Console")).toBe(`http://127.0.0.1:${apiPort}/console`);
  if (findWebRoot())
    for (const url of [printed("Dashboard")!, printed("Console")!]) {
      const res = await fetch(url);
      expect([res.status, res.headers.get("content-type")]).toEqual([200, "text/html; charset=utf-8"]);
      expect(await res.text()).toContain('<div id="app">');
    }
  let last: Status | undefined;
  let target = Number.POSITIVE_INFINITY;
  // The chain's tip when finalization first passed the target: the indexer must then store up to it. (Waiting for
  // latestSlot to equal the tip at one poll is a race with a slot every 100 ms, lost on a busy machine.)
  let tip: number | undefined;
  await waitFor(
    "the demo's indexer to finalize new slots",
    async () => {
      last = await status(apiPort);
      if (target === Number.POSITIVE_INFINITY && last.finalizedSlot !== null) target = past(last);
      if ((last.finalizedSlot ?? 0) <= target) return false;
      tip ??= last.chainTip ?? Number.POSITIVE_INFINITY;
      return (last.latestSlot ?? 0) >= tip;
    },
    90_000,
    250,
  ).catch((err: Error) => {
    throw new Error(
      `${err.message}: past ${target}, up to ${tip}, last status ${JSON.stringify(last)}; output: ${demo.output().slice(-3000)}`,
    );
  });
  expect(await demo.kill("SIGINT")).toBe(0);
  return { finalized: last!.finalizedSlot!, latest: last!.latestSlot!, output: demo.output() };
}

test("the demo run again starts over on its own database and Redis prefix, and leaves the configured database alone", async () => {
  const configured = await createTestDatabase(PG_ADMIN_URL, null);
  const redis = new Redis(REDIS_URL);
  try {
    await redis.set("slotline-demo:left-behind", "1");
    await redis.set("slotline-demo-other:kept", "1");
    // The chain starts with its recorded history finalized; the first run goes 60 new slots further.
    const first = await demoRun(configured.url, (start) => start.finalizedSlot! + 60);
    // The second run's chain numbers its slots as the first's did, with other blocks: on the first run's rows
    // ingest halts (deep_reorg) when it finalizes the slots the first run stored unfinalized, and never passes them.
    const second = await demoRun(configured.url, () => first.latest + 10);
    expect(second.output).not.toMatch(/deep_reorg/);
    expect(second.finalized).toBeGreaterThan(first.finalized);
    const stored = await query<{ n: string }>(
      withDatabase(PG_ADMIN_URL, "slotline_demo"),
      "select count(*)::text as n from slots where slot > $1",
      [first.finalized],
    );
    expect(Number(stored[0]!.n)).toBeGreaterThan(0);
    // DATABASE_URL named another database: the demo created no table in it
    expect(
      await query(configured.url, "select 1 from information_schema.tables where table_schema = 'public'"),
    ).toHaveLength(0);
    // the demo's own Redis keys were deleted at start, and only those
    expect(await redis.exists("slotline-demo:left-behind")).toBe(0);
    expect(await redis.get("slotline-demo-other:kept")).toBe("1");
  } finally {
    await redis.del("slotline-demo-other:kept");
    redis.disconnect();
    await configured.drop();
  }
}, 240_000);
