import { expect, test } from "vitest";
import { BLOCK_JOB_OPTIONS, blockBackoff, MAX_BACKOFF_MS } from "../../../indexer/queue/index.js";

test("block jobs back off 500 ms doubling, capped, so ten attempts span about a minute, not minutes", () => {
  expect([1, 2, 3, 4, 5, 6, 9].map(blockBackoff)).toEqual([500, 1000, 2000, 4000, 8000, 8000, 8000]);
  const attempts = BLOCK_JOB_OPTIONS.attempts!;
  const total = Array.from({ length: attempts - 1 }, (_, i) => blockBackoff(i + 1)).reduce((a, b) => a + b, 0);
  expect(total).toBeLessThanOrEqual(attempts * MAX_BACKOFF_MS);
  expect(total).toBeGreaterThan(30_000);
  // the job options name the strategy the worker registers
  expect(BLOCK_JOB_OPTIONS.backoff).toEqual({ type: "capped", delay: 500 });
});
