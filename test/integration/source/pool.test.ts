/**
 * The RPC endpoint pool against two real local chains serving the same recorded history: which endpoint is
 * chosen, when one is rested and tried again, how a block one endpoint lacks is asked of the other, and hedging.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { RpcResponseError } from "../../../core/errors.js";
import { createMetrics, type Metrics } from "../../../core/metrics.js";
import { type Chain, createChain, type FaultSpec, parseFaults } from "../../../devchain/index.js";
import { fetchBlocks, producedSlots, releaseBlocks } from "../../../indexer/source/blocks.js";
import { createRpcPool, type RpcPool } from "../../../indexer/source/pool.js";

const byName = (pool: RpcPool, i: number) => pool.endpoints()[i]!;

async function counter(metrics: Metrics, name: keyof Metrics, labels: Record<string, string>): Promise<number> {
  const metric = metrics[name] as unknown as { get(): Promise<{ values: { labels: object; value: number }[] }> };
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x))
    .reduce((n, v) => n + v.value, 0);
}

describe("RPC endpoint pool (two local chains)", () => {
  let a: Chain;
  let b: Chain;
  let specA: FaultSpec;
  let specB: FaultSpec;
  let slots: number[];

  beforeAll(async () => {
    specA = parseFaults(undefined);
    specB = parseFaults(undefined);
    [a, b] = await Promise.all([
      createChain({ port: 0, once: true, faults: specA }),
      createChain({ port: 0, once: true, faults: specB }),
    ]);
    slots = a.history.slots.slice(0, 6);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });
  beforeEach(() => {
    specA.rules.length = 0;
    specB.rules.length = 0;
  });

  const pool = (metrics: Metrics, extra: { hedge?: boolean; archive?: boolean } = {}) =>
    createRpcPool({
      endpoints: extra.archive ? [{ url: a.rpcUrl }] : [{ url: a.rpcUrl }, { url: b.rpcUrl, maxRps: 500 }],
      archive: extra.archive ? { url: b.rpcUrl } : undefined,
      maxRps: 1000,
      concurrency: 4,
      batchSize: 10,
      timeoutMs: 2_000,
      hedge: extra.hedge ?? false,
      metrics,
    });

  test("one endpoint and no archive: the plain client, every call counted on it", async () => {
    const p = createRpcPool({
      endpoints: [{ url: a.rpcUrl }],
      maxRps: 1000,
      concurrency: 2,
      batchSize: 10,
      timeoutMs: 2_000,
    });
    releaseBlocks(await fetchBlocks(p, slots, "finalized"));
    expect(p.endpoints()).toMatchObject([{ state: "healthy", requests: slots.length, share: 1, errors: 0 }]);
    expect(p.history()).toBe(p.history());
  });

  test("an endpoint answering 429 is rested; the requests go to the other until its rest is over", async () => {
    const metrics = createMetrics();
    const p = pool(metrics);
    specA.rules.push({ action: { kind: "status", status: 429, retryAfter: 1 } });
    const fetched = await fetchBlocks(p, slots, "finalized");
    expect(fetched.blocks.map((x) => x.slot)).toEqual(slots);
    releaseBlocks(fetched);
    expect(byName(p, 0)).toMatchObject({ state: "resting", rateLimited: 1, errors: 1 });
    expect(byName(p, 1)).toMatchObject({ state: "healthy", errors: 0 });
    const before = byName(p, 0).requests;
    for (const s of slots)
      await p.call("getBlock", [s, { commitment: "finalized", maxSupportedTransactionVersion: 0 }]);
    // While it rests, nothing more goes to the rate-limited endpoint.
    expect(byName(p, 0).requests).toBe(before);
    expect(byName(p, 1).share).toBeGreaterThan(0.5);
    expect(await counter(metrics, "rpcEndpointErrors", { endpoint: byName(p, 0).endpoint, kind: "http_429" })).toBe(1);
    // Once the rule is gone and the rest is over, the endpoint is tried again and healthy after one success.
    specA.rules.length = 0;
    await new Promise((r) => setTimeout(r, byName(p, 0).restingMs + 20));
    expect(byName(p, 0).state).toBe("healthy");
    for (let i = 0; i < 10; i++) await p.call("getSlot", []);
    expect(byName(p, 0).requests).toBeGreaterThan(before);
  });

  test("a failing endpoint is rested longer after each failure, and its state shows it", async () => {
    const metrics = createMetrics();
    const p = pool(metrics);
    specA.rules.push({ action: { kind: "status", status: 503 } });
    await p.call("getSlot", []);
    const first = byName(p, 0).restingMs;
    await new Promise((r) => setTimeout(r, first + 20));
    await p.call("getSlot", []);
    const second = byName(p, 0).restingMs;
    expect(byName(p, 0).errors).toBe(2);
    expect(second).toBeGreaterThan(first);
    expect(await counter(metrics, "rpcEndpointState", { endpoint: byName(p, 0).endpoint })).toBe(1);
  });

  test("a block one endpoint does not have (-32004) is fetched from the other", async () => {
    const metrics = createMetrics();
    const p = pool(metrics);
    specA.rules.push({ method: "getBlock", slot: slots[2]!, action: { kind: "error", code: -32004 } });
    const fetched = await fetchBlocks(p, slots, "finalized");
    expect(fetched.blocks.map((x) => x.slot)).toEqual(slots);
    expect(fetched.skipped).toEqual([]);
    releaseBlocks(fetched);
    expect(await counter(metrics, "rpcSecondOpinions", { outcome: "found" })).toBe(1);
  });

  test("a skipped answer stands only when the other endpoint agrees; 'not available' there makes it -32004", async () => {
    const metrics = createMetrics();
    const p = pool(metrics);
    const [s1, s2, s3] = [slots[1]!, slots[3]!, slots[4]!];
    // s1: skipped on A, served by B (B has the block: it is used)
    specA.rules.push({ method: "getBlock", slot: s1, action: { kind: "error", code: -32009 } });
    // s2: skipped on both: recorded skipped
    specA.rules.push({ method: "getBlock", slot: s2, action: { kind: "error", code: -32007 } });
    specB.rules.push({ method: "getBlock", slot: s2, action: { kind: "error", code: -32007 } });
    const fetched = await fetchBlocks(p, slots, "finalized");
    expect(fetched.blocks.map((x) => x.slot)).toEqual(slots.filter((s) => s !== s2));
    expect(fetched.skipped).toEqual([s2]);
    releaseBlocks(fetched);
    // s3: skipped on A, not available on B: not concluded, the caller retries
    specA.rules.push({ method: "getBlock", slot: s3, action: { kind: "error", code: -32007 } });
    specB.rules.push({ method: "getBlock", slot: s3, action: { kind: "error", code: -32004 } });
    const err = await p
      .call("getBlock", [s3, { commitment: "finalized", maxSupportedTransactionVersion: 0 }])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcResponseError);
    expect((err as RpcResponseError).code).toBe(-32004);
    expect(await counter(metrics, "rpcSecondOpinions", { outcome: "agreed" })).toBe(1);
    expect(await counter(metrics, "rpcSecondOpinions", { outcome: "disagreed" })).toBe(1);
  });

  test("a slot missing from one endpoint's getBlocks is in the pool's answer; the archive is asked first for history", async () => {
    const metrics = createMetrics();
    const p = pool(metrics, { archive: true });
    const from = slots[0]!;
    const to = slots[slots.length - 1]!;
    specA.rules.push({ slot: slots[2]!, action: { kind: "omit" } });
    expect(await producedSlots(p, from, to, "finalized")).toEqual(slots);
    const archive = () => p.endpoints().find((e) => e.archive)!;
    expect(archive().endpoint).toMatch(/^archive:/);
    const before = archive().requests;
    await p.history().call("getFirstAvailableBlock", []);
    expect(archive().requests).toBe(before + 1);
  });

  test("a getBlock batch slower than the endpoint's p95 is hedged on the other endpoint, and counted", async () => {
    const metrics = createMetrics();
    const p = pool(metrics, { hedge: true });
    // Warm-up: B is slow, so A is the best endpoint and holds the getBlock samples.
    specB.rules.push({ method: "getBlock", action: { kind: "delay", ms: 150 } });
    for (let i = 0; i < 25; i++) releaseBlocks(await fetchBlocks(p, [slots[i % slots.length]!], "finalized"));
    expect(byName(p, 0).requests).toBeGreaterThan(20);
    specB.rules.length = 0;
    specA.rules.push({ method: "getBlock", times: 1, action: { kind: "delay", ms: 5_000 } });
    const fetched = await fetchBlocks(p, slots.slice(0, 3), "finalized");
    expect(fetched.blocks.map((x) => x.slot)).toEqual(slots.slice(0, 3));
    releaseBlocks(fetched);
    expect(await counter(metrics, "rpcHedges", { outcome: "won" })).toBe(1);
  });
});
