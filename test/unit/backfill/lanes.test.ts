/** Inline backfill lanes: a failure stops new work and is reported only once the work in flight has settled. */
import { describe, expect, test } from "vitest";
import { runLanes } from "../../../indexer/backfill/lanes.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("runLanes", () => {
  test("runs every item, at most `concurrency` at once", async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    await runLanes([1, 2, 3, 4, 5, 6, 7], 3, new AbortController().signal, async (n) => {
      peak = Math.max(peak, ++running);
      await sleep(5);
      running--;
      done.push(n);
    });
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(peak).toBe(3);
  });

  test("a failure takes no new item and rejects after the items in flight have finished", async () => {
    const events: string[] = [];
    const run = runLanes([0, 1, 2, 3, 4, 5], 2, new AbortController().signal, async (n) => {
      events.push(`start ${n}`);
      if (n === 0) {
        await sleep(5);
        throw new Error("job 0 failed");
      }
      await sleep(60);
      events.push(`end ${n}`);
    });
    await expect(run).rejects.toThrow("job 0 failed");
    // item 1 was in flight when item 0 failed: it finished before the rejection; nothing started after the failure
    expect(events).toEqual(["start 0", "start 1", "end 1"]);
  });

  test("an abort stops taking items", async () => {
    const ac = new AbortController();
    const started: number[] = [];
    await runLanes([0, 1, 2, 3], 1, ac.signal, async (n) => {
      started.push(n);
      if (n === 1) ac.abort();
    });
    expect(started).toEqual([0, 1]);
  });
});
