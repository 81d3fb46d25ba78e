import { expect, inject, test } from "vitest";
import { runChaos } from "./harness.js";

// Reliability bar E3, the flagship: a 2,000-slot backfill and live ingest, job latency 0-300 ms, worker concurrency
// 8, 20 SIGKILLs of random processes at uniformly random 0-5 s moments, each restarted. `npm run test:chaos`;
// CHAOS_KILLS / CHAOS_SLOTS override the size (tests read no other environment).
const KILLS = Number(process.env.CHAOS_KILLS ?? 20);
const SLOTS = Number(process.env.CHAOS_SLOTS ?? 2_000);

test(`chaos: ${SLOTS}-slot backfill and live ingest, ${KILLS} random SIGKILLs, converges to the fault-free database`, async () => {
  const r = await runChaos({
    backfillSlots: SLOTS,
    kills: KILLS,
    maxKillDelayMs: 5_000,
    workers: 2,
    concurrency: 8,
    batchSize: 10,
    slotEveryMs: 200,
    syntheticTps: 20,
    jobLatency: "sleep(0-300)",
    services: { pgAdminUrl: inject("pgAdminUrl"), templateDb: inject("templateDb"), redisUrl: inject("redisUrl") },
    log: (m) => process.stdout.write(`[chaos] ${m}\n`),
  });
  const byRole: Record<string, number> = {};
  for (const k of r.kills) byRole[k.role.replace(/-\d+$/, "")] = (byRole[k.role.replace(/-\d+$/, "")] ?? 0) + 1;
  process.stdout.write(
    `[chaos] done in ${(r.durationMs / 1000).toFixed(0)} s: ${r.kills.length} kills ${JSON.stringify(byRole)}, backfill ${r.backfillRange.join("..")}, ` +
      `live ${r.liveRange.join("..")}, ${r.indexedSlots} slots indexed, ${r.missing.length} missing, digests equal: ${JSON.stringify(r.digest) === JSON.stringify(r.reference)}\n` +
      `[chaos] ${Object.entries(r.digest)
        .map(([t, d]) => `${t} ${d.rows} ${d.md5?.slice(0, 8)}`)
        .join(", ")}\n`,
  );
  expect(r.kills).toHaveLength(KILLS);
  expect(r.missing).toEqual([]);
  expect(r.diffs).toEqual([]);
  expect(r.digest).toEqual(r.reference);
  expect(r.digest.slots!.rows).toBeGreaterThan(SLOTS * 0.9);
}, 1_800_000);
