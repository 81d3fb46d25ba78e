import { afterEach, describe, expect, inject, test } from "vitest";
import { type Chain, createChain } from "../chain/index.js";
import { diffTable, digestTables } from "../setup/digest.js";
import { caughtUp, ingestEnv, query } from "../setup/ingest-env.js";
import { type SlotlineProcess, spawnSlotline, waitFor } from "../setup/processes.js";
import { writeReference } from "../setup/reference.js";
import { createTestDatabase, uniquePrefix } from "../setup/services.js";

// Every run: new synthetic slots produced by hand on a local chain, ingested by real slotline processes under a
// fault, then compared table by table with a database written by the plain pipeline over the same blocks.
const SLOTS = 30;

type Run = { chain: Chain; db: Awaited<ReturnType<typeof createTestDatabase>>; procs: SlotlineProcess[]; env: Record<string, string> };
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function setUp(faults: string, extra: Record<string, string> = {}): Promise<Run> {
  const chain = await createChain({ port: 0, autoProduce: false, syntheticTps: 400, slotMs: 400, finalityLag: 4, faults });
  cleanups.push(() => chain.close());
  const db = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
  cleanups.push(() => db.drop());
  const env = ingestEnv(chain, db.url, inject("redisUrl"), uniquePrefix(), { START_SLOT: String(chain.slot("processed") + 1), ...extra });
  const run: Run = { chain, db, procs: [], env };
  cleanups.push(() => Promise.all(run.procs.map((p) => p.kill("SIGKILL"))));
  return run;
}

/** Produces `n` slots, one every `everyMs`, calling `during(i)` after each. */
async function produce(chain: Chain, n: number, everyMs: number, during?: (i: number) => Promise<void>) {
  for (let i = 0; i < n; i++) {
    chain.tick();
    await during?.(i);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits for convergence, stops the processes, and compares with the reference over the same slots. */
async function expectConverged(run: Run) {
  const { chain, db } = run;
  // A few more slots so the finality tracker sees every ingested slot finalized (or dropped).
  await produce(chain, 6, 100);
  await waitFor("ingest to catch up with the confirmed tip", () => caughtUp(db.url, chain.slot("confirmed")), 90_000).catch(async (err) => {
    const { writeFileSync } = await import("node:fs");
    run.procs.forEach((p, i) => writeFileSync(`/tmp/slotline-proc-${i}.log`, p.output()));
    const state = await query(db.url, "select (select slot from cursors where id = 'live') as cursor, (select array_agg(slot) from slots where status = 'pending') as pending");
    throw new Error(`${(err as Error).message}: confirmed tip ${chain.slot("confirmed")}, ${JSON.stringify(state)}`);
  });
  const fin = chain.slot("finalized");
  await waitFor("the finality tracker to pass the finalized slot", async () => {
    const r = await query<{ n: number }>(db.url, "select count(*)::int as n from slots where status = 'indexed' and commitment = 'confirmed' and slot <= $1", [fin]);
    return r[0]!.n === 0;
  }).catch(async (err) => {
    const { writeFileSync } = await import("node:fs");
    run.procs.forEach((p, i) => writeFileSync(`/tmp/slotline-proc-${i}.log`, p.output()));
    throw new Error(`${(err as Error).message}\n${run.procs.map((p) => p.output().slice(-3000)).join("\n---\n")}`);
  });
  const ref = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
  cleanups.push(() => ref.drop());
  const indexedNow = (await query<{ slot: string }>(db.url, "select slot::text from slots where status = 'indexed' order by slot")).map((r) => Number(r.slot));
  await writeReference(chain.rpcUrl, ref.url, indexedNow.filter((s) => s <= fin), "finalized");
  await writeReference(chain.rpcUrl, ref.url, indexedNow.filter((s) => s > fin), "confirmed");
  const expected = await digestTables(ref.url);
  // Convergence: table by table, the faulty run's database becomes the reference (token lookups may trail a little).
  await waitFor("the database to equal the fault-free reference", async () => JSON.stringify(await digestTables(db.url)) === JSON.stringify(expected), 20_000).catch(() => {});
  for (const p of run.procs) expect(await p.kill("SIGTERM"), p.output().slice(-2000)).toBe(0);

  const [{ cursor }] = (await query<{ cursor: string }>(db.url, "select slot::text as cursor from cursors where id = 'live'")) as [{ cursor: string }];
  const indexed = (await query<{ slot: string }>(db.url, "select slot::text from slots where status = 'indexed' order by slot")).map((r) => Number(r.slot));
  // No produced slot at or below the resume point is missing.
  const start = Number(run.env.START_SLOT);
  const canonical = await (async () => {
    const res = await fetch(chain.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: "1", method: "getBlocks", params: [start, Number(cursor), { commitment: "confirmed" }] }) });
    return ((await res.json()) as { result: number[] }).result;
  })();
  expect(canonical.length).toBeGreaterThan(20);
  expect(canonical.filter((s) => !indexed.includes(s))).toEqual([]);

  expect(indexed).toEqual(indexedNow);
  const actual = await digestTables(db.url);
  for (const table of Object.keys(expected))
    if (actual[table]?.md5 !== expected[table]?.md5) expect.soft({ table, ...(await diffTable(db.url, ref.url, table)) }).toEqual({ table, onlyA: [], onlyB: [] });
  expect(actual).toEqual(expected);
  return { indexed, cursor: Number(cursor) };
}

describe("live ingest under faults converges to the fault-free database", () => {
  test("kill -9 of the worker and of the ingest process at random moments, 5 times", async () => {
    const run = await setUp("");
    const ingest = () => spawnSlotline(["ingest"], run.env);
    const worker = () => spawnSlotline(["worker"], run.env);
    run.procs.push(ingest(), worker());
    let kills = 0;
    await produce(run.chain, SLOTS, 150, async (i) => {
      if (i % 6 !== 5) return;
      // Kill one of the two at random, at a random moment within the next 300 ms, and start it again.
      const k = Math.floor(Math.random() * 2);
      await new Promise((r) => setTimeout(r, Math.random() * 300));
      await run.procs[k]!.kill("SIGKILL");
      run.procs[k] = k === 0 ? ingest() : worker();
      kills++;
    });
    expect(kills).toBe(5);
    await expectConverged(run);
  }, 180_000);

  test("two worker processes on one queue: same database, no duplicate rows", async () => {
    const run = await setUp("");
    run.procs.push(spawnSlotline(["ingest"], run.env), spawnSlotline(["worker"], run.env), spawnSlotline(["worker"], run.env));
    await produce(run.chain, SLOTS, 100);
    await expectConverged(run);
  }, 120_000);

  test.each([
    // Each 429 carries Retry-After: 1, and the client holds every request for that second (as it must).
    ["HTTP 429 on one request in twenty", "rate429=0.05"],
    ["-32004 for fresh slots", "notAvailable=0.5"],
    ["abnormal WebSocket closes", "wsDropEvery=1s,wsDropCode=abnormal"],
    ["WebSocket closes with code 1000 (web3.js does not resubscribe)", "wsDropEvery=1s,wsDropCode=1000"],
    ["silent WebSocket stalls", "wsStall=2s,wsStallEvery=3s"],
    ["a confirmed slot that never finalizes (dropped fork)", "fork=slot:+5"],
  ])("%s", async (_name, faults) => {
    const run = await setUp(faults, { WS_STALL_MS: "1500" });
    run.procs.push(spawnSlotline(["start"], run.env));
    await produce(run.chain, SLOTS, 150);
    const { indexed } = await expectConverged(run);
    if (faults.startsWith("fork")) {
      // The dropped slot was stored at confirmed, then rolled back: none of its rows remain.
      for (const s of run.chain.forkSlots) expect(indexed).not.toContain(s);
      const rolled = await query<{ n: number }>(run.db.url, "select count(*)::int as n from transactions where slot = any($1::int8[])", [run.chain.forkSlots]);
      expect(rolled[0]!.n).toBe(0);
    }
  }, 120_000);
});
