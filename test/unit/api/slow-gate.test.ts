import { describe, expect, test } from "vitest";
import { SLOW_STATEMENT_MS, createSlowGate } from "../../../api/sql/slow-gate.js";

const code = (e: unknown) => (e as { extensions?: { code?: string } }).extensions?.code;

describe("api slow lane", () => {
  test("a shape is slow when even its quickest recent server-clocked run reached the threshold; one quick run makes it fast again", () => {
    const g = createSlowGate({ concurrency: 2 });
    expect(g.isSlow("select 1")).toBe(false);
    expect(g.wantsClock("select 1")).toBe(false);
    g.observe("select 1", 1);
    // A fast statement behind a busy event loop: slow by the API's clock only nominates it for a server-clocked run.
    for (let i = 0; i < 10; i++) g.observe("select 1", SLOW_STATEMENT_MS * 10);
    expect(g.isSlow("select 1")).toBe(false);
    // it has a sample already: every 8th of its batches is clocked, not every one
    expect(Array.from({ length: 8 }, () => g.wantsClock("select 1")).filter(Boolean)).toHaveLength(1);
    g.observe("select 1", 1, true);
    expect(g.isSlow("select 1")).toBe(false);
    // A new shape slow by the API's clock is clocked on its next batch; slow there, it enters the lane.
    g.observe("scan", SLOW_STATEMENT_MS * 4);
    expect(g.isSlow("scan")).toBe(false);
    expect(g.wantsClock("scan")).toBe(true);
    g.observe("scan", SLOW_STATEMENT_MS * 3, true);
    expect(g.isSlow("scan")).toBe(true);
    // Once sampled, a shape still slow by wall time is clocked every 8th batch, not every batch.
    g.observe("scan", SLOW_STATEMENT_MS * 4);
    expect(Array.from({ length: 8 }, () => g.wantsClock("scan")).filter(Boolean)).toHaveLength(1);
    // A quick run on the API's clock is proof enough of a quick statement: it leaves the lane.
    g.observe("scan", 1);
    expect(g.isSlow("scan")).toBe(false);
    expect(g.wantsClock("scan")).toBe(false);
    // Slow again: it re-enters once its WINDOW (4) latest samples are all slow.
    for (let i = 0; i < 3; i++) g.observe("scan", SLOW_STATEMENT_MS * 2, true);
    expect(g.isSlow("scan")).toBe(false);
    g.observe("scan", SLOW_STATEMENT_MS * 2, true);
    expect(g.isSlow("scan")).toBe(true);
    const off = createSlowGate({ concurrency: 0 });
    off.observe("scan", 10_000, true);
    expect(off.isSlow("scan")).toBe(false);
    expect(off.wantsClock("scan")).toBe(false);
  });

  test("at most `concurrency` run at once; the others wait in order and enter as slots free", async () => {
    const g = createSlowGate({ concurrency: 2, duty: 1 });
    const order: number[] = [];
    const releases = await Promise.all([g.enter(), g.enter()]);
    const waiting = [3, 4].map((n) => g.enter().then((leave) => (order.push(n), leave)));
    await new Promise((r) => setTimeout(r, 10));
    expect(g.stats()).toEqual({ running: 2, waiting: 2 });
    releases[0]!();
    const third = await waiting[0]!;
    expect(order).toEqual([3]);
    expect(g.stats()).toEqual({ running: 2, waiting: 1 });
    releases[1]!();
    (await waiting[1]!)();
    third();
    expect(g.stats()).toEqual({ running: 0, waiting: 0 });
  });

  test("waiting is bounded: past maxWaitMs QUERY_TIMEOUT, past maxQueue OVERLOADED, an aborted request QUERY_CANCELLED", async () => {
    const g = createSlowGate({ concurrency: 1, maxWaitMs: 50, maxQueue: 2, duty: 1 });
    const leave = await g.enter();
    const timedOut = g.enter().catch(code);
    const abort = new AbortController();
    const cancelled = g.enter(abort.signal).catch(code);
    expect(await g.enter().catch(code)).toBe("OVERLOADED");
    abort.abort();
    expect(await cancelled).toBe("QUERY_CANCELLED");
    expect(await timedOut).toBe("QUERY_TIMEOUT");
    expect(g.stats()).toEqual({ running: 1, waiting: 0 });
    leave();
    (await g.enter())();
    expect(g.stats()).toEqual({ running: 0, waiting: 0 });
  });

  test("a slot that was busy t ms rests t x (1 - duty) / duty ms before the next waiter enters; a second release is a no-op", async () => {
    const g = createSlowGate({ concurrency: 1, duty: 0.5 });
    const leave = await g.enter();
    const next = g.enter().then((l) => ({ l, at: performance.now() }));
    await new Promise((r) => setTimeout(r, 60));
    const releasedAt = performance.now();
    leave();
    leave();
    expect(g.stats()).toEqual({ running: 1, waiting: 1 });
    const { l, at } = await next;
    // held about 60 ms at duty 0.5: rests about 60 ms (timers may fire a little early or late)
    expect(at - releasedAt).toBeGreaterThanOrEqual(50);
    expect(at - releasedAt).toBeLessThan(1_000);
    expect(g.stats()).toEqual({ running: 1, waiting: 0 });
    l();
    // a slot released at once (held under a millisecond's worth of rest) frees without a timer
    const quick = createSlowGate({ concurrency: 1, duty: 0.5 });
    (await quick.enter())();
    expect(quick.stats()).toEqual({ running: 0, waiting: 0 });
  });
});
