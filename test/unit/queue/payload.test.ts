import { expect, test } from "vitest";
import { parseBackfillPlan } from "../../../indexer/backfill/plan.js";
import { PRESET_NAMES } from "../../../core/presets.js";
import {
  type BlockJob,
  MAX_JOB_BYTES,
  MAX_SIGNATURES_PER_JOB,
  MAX_SLOTS_PER_JOB,
  checkJobData,
} from "../../../indexer/queue/index.js";

// Reliability bar D6: job data is references only, at most 2 KB, so Redis memory stays bounded.
const SIG = "5".repeat(88); // the longest base58 signature
const SLOT = 9_999_999_999; // 10 digits: slot 444,000,000 today, 10^10 in about 120 years
const PROGRAM_IDS = Array(10).fill("T".repeat(44)); // `backfill --programs` with ten program ids

test("the largest job each source can build fits MAX_JOB_BYTES", () => {
  const biggest: BlockJob[] = [
    { slots: [SLOT], commitment: "confirmed", origin: "live" },
    {
      slots: Array(MAX_SLOTS_PER_JOB).fill(SLOT),
      commitment: "finalized",
      origin: "backfill-2147483647",
      programs: PROGRAM_IDS,
    },
    {
      slots: [],
      signatures: Array(MAX_SIGNATURES_PER_JOB).fill(SIG),
      commitment: "confirmed",
      origin: "backfill-2147483647",
      programs: PROGRAM_IDS,
    },
    {
      slots: [],
      signatures: Array(MAX_SIGNATURES_PER_JOB).fill(SIG),
      commitment: "confirmed",
      origin: "backfill-2147483647",
      programs: [...PRESET_NAMES],
    },
  ];
  for (const job of biggest) {
    expect(JSON.stringify(job).length).toBeLessThanOrEqual(MAX_JOB_BYTES);
    expect(checkJobData(job)).toBe(job);
  }
});

test("a job carrying more than references is refused before it reaches Redis", () => {
  expect(() =>
    checkJobData({ slots: [], signatures: Array(50).fill(SIG), commitment: "confirmed", origin: "logs" }),
  ).toThrow(/exceeds 2048/);
});

test("backfill batch sizes are bounded per kind of job", () => {
  expect(parseBackfillPlan({ fromSlot: "1", toSlot: "9", batchSize: String(MAX_SLOTS_PER_JOB) }, 10).problems).toEqual(
    [],
  );
  expect(
    parseBackfillPlan({ fromSlot: "1", toSlot: "9", batchSize: String(MAX_SLOTS_PER_JOB + 1) }, 10).problems.join(),
  ).toMatch(/--batch-size 101: expected 1 to 100 slots/);
  expect(parseBackfillPlan({ program: "pumpfun", batchSize: "17" }, 10).problems.join()).toMatch(
    /--batch-size 17: expected 1 to 16 signatures/,
  );
  expect(parseBackfillPlan({ program: "pumpfun" }, 50).plan).toMatchObject({
    kind: "address",
    batchSize: MAX_SIGNATURES_PER_JOB,
  });
});
