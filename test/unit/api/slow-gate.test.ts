import { describe, expect, test } from "vitest";
import { SLOW_STATEMENT_MS, createSlowGate, shapeOf } from "../../../api/sql/slow-gate.js";

const code = (e: unknown) => (e as { extensions?: { code?: string } }).extensions?.code;

describe("api slow lane", () => {
  test("a shape is slow when even its quickest recent server-clocked run reached the threshold; one quick run makes it fast again", () => {
    const g = createSlowGate({ concurrency: 2 });
    g.observe("select 1", 1);
    expect(g.isSlow("select 1")).toBe(false);
    expect(g.wantsClock("select 1")).toBe(false);
    // A fast statement behind a busy event loop: slow by the API's clock only nominates it for a server-clocked run.
    for (let i = 0; i < 10; i++) g.observe("select 1", SLOW_STATEMENT_MS * 10);
    expect(g.isSlow("select 1")).toBe(false);
    // it has a sample already: every 8th of its batches is clocked, not every one
    expect(Array.from({ length: 8 }, () => g.wantsClock("select 1")).filter(Boolean)).toHaveLength(1);
    g.observe("select 1", 1, true);
    expect(g.isSlow("select 1")).toBe(false);
    // A new shape slow by the API's clock stays unmeasured: in the lane, clocked on its next batch; slow there, it
    // stays in the lane.
    g.observe("scan", SLOW_STATEMENT_MS * 4);
    expect(g.isSlow("scan")).toBe(true);
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
    expect(off.isSlow("new")).toBe(false);
    expect(off.wantsClock("new")).toBe(false);
    off.observe("scan", 10_000, true);
    expect(off.isSlow("scan")).toBe(false);
    expect(off.wantsClock("scan")).toBe(false);
  });

  test("a shape not measured yet is slow and clocked: a statement's first run never passes the lane for being new", () => {
    const g = createSlowGate({ concurrency: 1 });
    const text = "select t.slot from swaps t where t.dex = $1 order by t.slot desc limit $2";
    expect(g.isSlow(text)).toBe(true);
    expect(g.isQuick(text)).toBe(false);
    // clocked on every batch until one is measured, not once in CLOCK_EVERY
    expect(Array.from({ length: 3 }, () => g.wantsClock(text))).toEqual([true, true, true]);
    g.observe(text, 1, true);
    expect(g.isSlow(text)).toBe(false);
    expect(g.isQuick(text)).toBe(true);
    expect(g.wantsClock(text)).toBe(false);
  });

  test("shapes are keyed on list, filter set and ordering: the columns a query selects do not make a new shape", () => {
    const page = (cols: string, filters: string) =>
      `select ${cols}, t.tx_index as __k1 from swaps t where ${filters}\n order by t.slot desc limit $9`;
    expect(shapeOf(page("t.signature", "t.dex = $1"))).toBe(shapeOf(page('t.slot, t.pool as "pool"', "t.dex = $1")));
    expect(shapeOf(page("t.signature", "t.dex = $1"))).not.toBe(shapeOf(page("t.signature", "t.trader = $1")));
    expect(shapeOf(page("t.signature", "t.dex = $1"))).not.toBe(
      shapeOf(page("t.signature", "t.dex = $1 and t.slot >= $2::int8")),
    );
    // a per-parent page: the outer and the lateral select lists both go; the unnest and the filters stay
    const lateral = (cols: string) =>
      `select p.__parent, x.* from unnest($1::text[]) with ordinality as p(__parent, __ord) cross join lateral (select ${cols} from swaps t where t.pool = p.__parent) x order by p.__ord`;
    expect(shapeOf(lateral("t.signature"))).toBe(shapeOf(lateral("t.amount_in, t.amount_out")));
    expect(shapeOf(lateral("t.signature"))).toContain("unnest($1::text[])");
    expect(shapeOf(lateral("t.signature"))).toContain("where t.pool = p.__parent");
    // A shape measured slow through one query's columns gates another query's columns of the same list and filters.
    const g = createSlowGate({ concurrency: 1 });
    g.observe(page("t.signature", "t.dex = $1"), SLOW_STATEMENT_MS * 5, true);
    expect(g.isSlow(page("t.slot, t.pool", "t.dex = $1"))).toBe(true);
    g.observe(page("t.slot", "t.pool = $1"), 1, true);
    expect(g.isQuick(page("t.signature, t.trader", "t.pool = $1"))).toBe(true);
  });

  test("memory is bounded: past maxShapes the least recently run shape is forgotten (unmeasured, so slow again)", () => {
    const g = createSlowGate({ concurrency: 1, maxShapes: 3 });
    const text = (n: number) => `select t.slot from swaps t where t.f${n} = $1`;
    for (const n of [1, 2, 3]) g.observe(text(n), 1, true);
    // shape 1 runs again: shape 2 is now the least recently run
    g.observe(text(1), 1, true);
    g.observe(text(4), 1, true);
    expect([1, 2, 3, 4].map((n) => g.isQuick(text(n)))).toEqual([true, false, true, true]);
    expect(g.isSlow(text(2))).toBe(true);
    // a flood of new shapes keeps the count at the bound and leaves none of them ungated
    for (let n = 100; n < 200; n++) g.observe(text(n), SLOW_STATEMENT_MS * 2);
    expect([1, 3, 4, 150].map((n) => g.isSlow(text(n)))).toEqual([true, true, true, true]);
    expect([197, 198, 199].map((n) => g.isSlow(text(n)))).toEqual([true, true, true]);
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
