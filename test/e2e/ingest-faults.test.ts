import { afterEach, describe, expect, test } from "vitest";
import { query } from "../setup/ingest-env.js";
import { freePort } from "../setup/private-services.js";
import { spawnSlotline } from "../setup/processes.js";
import { expectConverged, produce, type Run, setUpRun } from "./reliability/converge.js";

// Every run: new synthetic slots produced by hand on a local chain, ingested by real slotline processes under a
// fault, then compared table by table with a database written by the plain pipeline over the same blocks
// (the shared convergence oracle in reliability/converge.ts).
const SLOTS = 30;
/** The faults below are tuned to this load. */
const setUpFaultRun = (faults: string, extra: Record<string, string>) => setUpRun({ faults, extra, syntheticTps: 400 });
/** Kills and two workers keep the default stall watchdog; cleaned up after each test. */
const setUp = (faults: string) => setUpFaultRun(faults, { WS_STALL_MS: "10000" }).then((r) => (runs.push(r), r));
const converged = (run: Run) => expectConverged(run, { timeoutMs: 90_000, minSlots: 21 });

const runs: Run[] = [];
afterEach(async () => {
  for (const r of runs.splice(0)) await r.cleanup();
});

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
    await converged(run);
  }, 180_000);

  test("two worker processes on one queue: same database, no duplicate rows", async () => {
    const run = await setUp("");
    run.procs.push(
      spawnSlotline(["ingest"], run.env),
      spawnSlotline(["worker"], run.env),
      spawnSlotline(["worker"], run.env),
    );
    await produce(run.chain, SLOTS, 100);
    await converged(run);
  }, 120_000);

  // Independent runs (own chain, database and queue prefix) that mostly wait on the chain's clock: run side by side
  // (at most the e2e project's maxConcurrency at once), each cleaning up after itself.
  test.concurrent.for<[string, string]>([
    // Each 429 carries Retry-After: 1, and the client holds every request for that second (as it must).
    ["HTTP 429 on one request in twenty", "rate429=0.05"],
    ["-32004 for fresh slots", "notAvailable=0.5"],
    ["abnormal WebSocket closes", "wsDropEvery=1s,wsDropCode=abnormal"],
    ["WebSocket closes with code 1000 (web3.js does not resubscribe)", "wsDropEvery=1s,wsDropCode=1000"],
    ["silent WebSocket stalls", "wsStall=2s,wsStallEvery=3s"],
    ["a confirmed slot that never finalizes (dropped fork)", "fork=slot:+5"],
  ])("%s", { timeout: 120_000 }, async ([, faults], { expect }) => {
    // `start` serves the API too: a port of its own beside the other runs.
    const run = await setUpFaultRun(faults, { WS_STALL_MS: "1500", API_PORT: String(await freePort()) });
    try {
      run.procs.push(spawnSlotline(["start"], run.env));
      await produce(run.chain, SLOTS, 150);
      const { indexed } = await converged(run);
      if (faults.startsWith("fork")) {
        // The dropped slot was stored at confirmed, then rolled back: none of its rows remain.
        for (const s of run.chain.forkSlots) expect(indexed).not.toContain(s);
        const rolled = await query<{ n: number }>(
          run.db.url,
          "select count(*)::int as n from transactions where slot = any($1::int8[])",
          [run.chain.forkSlots],
        );
        expect(rolled[0]!.n).toBe(0);
      }
    } finally {
      await run.cleanup();
    }
  });
});
