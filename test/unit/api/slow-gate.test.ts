import { describe, expect, test } from "vitest";
import { SLOW_STATEMENT_MS, createSlowGate } from "../../../api/slow-gate.js";

const code = (e: unknown) => (e as { extensions?: { code?: string } }).extensions?.code;

describe("api slow lane", () => {
  test("a shape is slow when even its quickest recent run reached the threshold; one quick run makes it fast again", () => {
    const g = createSlowGate({ concurrency: 2 });
    expect(g.isSlow("select 1")).toBe(false);
    g.observe("select 1", 1);
    // A fast statement queued behind a busy machine: its slow runs do not make it slow while a quick one is recent.
    for (let i = 0; i < 10; i++) g.observe("select 1", SLOW_STATEMENT_MS * 10);
    expect(g.isSlow("select 1")).toBe(false);
    g.observe("scan", SLOW_STATEMENT_MS * 4);
    expect(g.isSlow("scan")).toBe(true);
    g.observe("scan", 1);
    expect(g.isSlow("scan")).toBe(false);
    for (let i = 0; i < 16; i++) g.observe("scan", SLOW_STATEMENT_MS * 2);
    expect(g.isSlow("scan")).toBe(true);
    const off = createSlowGate({ concurrency: 0 });
    off.observe("scan", 10_000);
    expect(off.isSlow("scan")).toBe(false);
  });

  test("at most `concurrency` run at once; the others wait in order and enter as slots free", async () => {
    const g = createSlowGate({ concurrency: 2 });
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
    const g = createSlowGate({ concurrency: 1, maxWaitMs: 50, maxQueue: 2 });
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
});
