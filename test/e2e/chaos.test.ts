import { expect, inject, test } from "vitest";
import { runChaos } from "../chaos/harness.js";

// The short chaos run, on every change (the 2,000-slot, 20-kill run is `npm run test:chaos`): a backfill and live
// ingest by real processes, random SIGKILLs, restarts; the database must equal the fault-free one, with no gap.
test("chaos (short): 200-slot backfill and live ingest, 3 random SIGKILLs, converges to the fault-free database", async () => {
  const r = await runChaos({
    backfillSlots: 200,
    kills: 3,
    maxKillDelayMs: 5_000,
    workers: 1,
    concurrency: 8,
    batchSize: 10,
    slotEveryMs: 200,
    syntheticTps: 20,
    jobLatency: "sleep(0-300)",
    log: (m) => process.stdout.write(`[chaos] ${m}\n`),
    services: { pgAdminUrl: inject("pgAdminUrl"), templateDb: inject("templateDb"), redisUrl: inject("redisUrl") },
  });
  expect(r.kills).toHaveLength(3);
  expect(r.missing).toEqual([]);
  expect(r.diffs).toEqual([]);
  expect(r.digest).toEqual(r.reference);
  // Both parts really ran: the backfill range and some live slots are stored.
  expect(r.digest.slots!.rows).toBeGreaterThan(200);
  expect(r.liveRange[1]).toBeGreaterThan(r.liveRange[0]);
  // The pricing stage's rows are in the comparison, and it priced something.
  expect(r.digest["pricing.token_prices"]!.rows).toBeGreaterThan(0);
}, 240_000);
