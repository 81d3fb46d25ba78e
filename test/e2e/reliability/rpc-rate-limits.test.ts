/**
 * A1: 429 with Retry-After and 503s converge within the request budget; a request the endpoint can never answer
 * is sent once and fails the process's /health.
 */
import { afterEach, describe, expect, test } from "vitest";
import { query } from "../../setup/ingest-env.js";
import { waitFor } from "../../setup/processes.js";
import {
  expectConverged,
  getBlockCalls,
  health,
  metric,
  produce,
  type RpcRun,
  setUpRpcRun,
  startSlotline,
} from "./rpc-harness.js";

let run: RpcRun | undefined;
afterEach(async () => {
  await run?.cleanup();
  run = undefined;
});

const RPS = 8;
const RETRY_AFTER_S = 2;

describe("A1: rate limits and error classes", () => {
  test("30% of getBlock answered 429 (Retry-After: 2), getBlocks 503 now and then: digest equals the reference, no request inside Retry-After, calls within the budget", async () => {
    run = await setUpRpcRun({ faults: "seed=11", extra: { RPC_MAX_RPS: String(RPS), RPC_CONCURRENCY: "8" } });
    run.spec.rules.push(
      { method: "getBlock", p: 0.3, action: { kind: "status", status: 429, retryAfter: RETRY_AFTER_S } },
      // getBlocks is asked about every 2 s at this budget: the first two answers are 503 for certain, later ones now
      // and then.
      { method: "getBlocks", times: 2, action: { kind: "status", status: 503 } },
      { method: "getBlocks", p: 0.2, action: { kind: "status", status: 503 } },
    );
    startSlotline(run);
    const served = () => run!.log.some((e) => e.status === 429) && run!.log.some((e) => e.status === 503);
    // getBlocks is only asked while new slots arrive: slots keep coming until both were served (a process that starts
    // late finds every slot already produced).
    await produce(run.chain, 10, 150);
    const until = Date.now() + 60_000;
    while (!served() && Date.now() < until) await produce(run.chain, 2, 150);
    if (!served()) {
      const summary = run.log.map((e) => `${e.method}:${e.status}`).join(" ");
      throw new Error(
        `no 429 and 503 served in 60 s: ${run.log.length} calls: ${summary}\n${run.proc!.output().slice(-3000)}`,
      );
    }
    await waitFor("rate-limit metric", async () => (await metric(run!, "slotline_rpc_rate_limited_total")) > 0, 30_000);
    const rateLimited = await metric(run, "slotline_rpc_rate_limited_total");
    await expectConverged(run, 90_000);

    // Only what the slotline process sent under the faults, not the reference writer afterwards.
    const log = run.log.filter((e) => e.t < run!.faultsOffAt!);
    const limited = log.filter((e) => e.status === 429);
    // p = 0.3 over the run's getBlock requests: at least one 429 (whose window is checked below).
    expect(limited.length).toBeGreaterThanOrEqual(1);
    expect(rateLimited).toBeGreaterThan(0);
    // After a 429 the client sends nothing for Retry-After. Requests arriving within 250 ms left before the client
    // could have read the 429 (they were in flight or queued in its socket); none may arrive after that.
    const violations = limited.flatMap((l) =>
      log
        .filter((e) => e.t > l.sentAt + 250 && e.t < l.sentAt + RETRY_AFTER_S * 1000 - 5)
        .map((e) => ({ after429At: l.sentAt, method: e.method, dt: e.t - l.sentAt })),
    );
    expect(violations).toEqual([]);
    // Budget: a token bucket of RPS calls per second holds at most RPS + W * RPS calls in any W-second window.
    const times = log.map((e) => e.t).sort((a, b) => a - b);
    const busiest = (w: number) => Math.max(...times.map((t, i) => times.slice(i).filter((x) => x < t + w).length));
    expect(busiest(1_000)).toBeLessThanOrEqual(2 * RPS);
    expect(busiest(5_000)).toBeLessThanOrEqual(6 * RPS);
    // ...and the budget was what limited the run (not an idle client).
    expect(busiest(5_000)).toBeGreaterThanOrEqual(2 * RPS);
  }, 150_000);

  test("-32601 on getBlock: exactly one call, the job dead-lettered with the error, /health failed (503), ingestion of slots goes on without retry storm", async () => {
    run = await setUpRpcRun();
    run.spec.rules.push({ method: "getBlock", action: { kind: "error", code: -32601, message: "Method not found" } });
    startSlotline(run);
    const slots = await produce(run.chain, 6, 150);
    await waitFor("/health failed", async () => (await health(run!)).status === 503, 30_000).catch((err) => {
      throw new Error(
        `${(err as Error).message}: ${run!.log.length} calls logged\n${run!.proc!.output().slice(-3000)}`,
      );
    });
    await waitFor(
      "a dead letter per confirmed slot",
      async () => {
        const r = await query<{ n: number }>(run!.db.url, "select count(*)::int as n from dead_letters");
        return r[0]!.n >= 3;
      },
      30_000,
    );
    await new Promise((r) => setTimeout(r, 1_500));
    const h = await health(run);
    expect(h.body).toMatchObject({ status: "failed", rpcFailure: { method: "getBlock", code: -32601 } });
    // Nothing sent once the endpoint said the method is missing: only requests already in flight before the first
    // -32601 came back (at most the worker's concurrency), later jobs fail without a request.
    const calls = run.log.filter((e) => e.method === "getBlock");
    const firstAnswer = Math.min(...calls.map((c) => c.sentAt).filter((t) => t > 0));
    // (The answer's send time is the chain's: a request the client sent before that answer reached it may arrive
    // a few milliseconds later; a retry storm or a request made knowing the method is missing would come later.)
    expect(
      calls.filter((c) => c.t > firstAnswer + 500).map((c) => ({ request: c.request, dt: c.t - firstAnswer })),
    ).toEqual([]);
    expect(calls.length).toBeLessThanOrEqual(8);
    const dl = await query<{ job_id: string; error: string; attempts: number }>(
      run.db.url,
      "select job_id, error, attempts from dead_letters order by job_id",
    );
    for (const d of dl) {
      expect(d.attempts).toBe(1);
      expect(d.error).toMatch(/getBlock: -32601/);
    }
    // Nothing stored for those slots, nothing recorded as skipped.
    const stored = await query<{ n: number }>(
      run.db.url,
      "select count(*)::int as n from slots where slot = any($1::int8[]) and status in ('indexed', 'skipped')",
      [slots],
    );
    expect(stored[0]!.n).toBe(0);
    expect(getBlockCalls(run.log, slots[0]!).length).toBeLessThanOrEqual(1);
  }, 90_000);
});
