/**
 * The hostile-RPC run: the local chain answers getBlock with a 5 GiB Content-Length, a gzip bomb and a block holding
 * the same transaction twice, and leaves a produced block out of getBlocks (getBlock serves it, its child names it as
 * parent), and once calls a produced block skipped. The `slotline start` process stays up, indexes the left-out block
 * and the one once called skipped (their children name them), and every table equals the fault-free reference.
 */
import { afterEach, describe, expect, test } from "vitest";
import type { FaultRule } from "../../../devchain/faults.js";
import { query } from "../../setup/ingest-env.js";
import { waitFor } from "../../setup/processes.js";
import {
  expectConverged,
  getBlockCalls,
  health,
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

describe("hostile RPC", () => {
  test("giant Content-Length, gzip bomb, duplicated signature, a block left out of getBlocks, one once answered skipped: the worker stays up, both blocks are indexed, digests equal the reference", async () => {
    // A 64 MB answer cap, so the bomb (100 MiB inflated) is past it without inflating 256 MB in a test.
    run = await setUpRpcRun({ extra: { RPC_MAX_ANSWER_MB: "64" } });
    const base = run.chain.slot("processed");
    const [huge, bomb, dup, left, flaky] = [base + 2, base + 3, base + 5, base + 7, base + 10];
    const rules: FaultRule[] = [
      { method: "getBlock", slot: huge, times: 2, action: { kind: "hugeLength" } },
      { method: "getBlock", slot: bomb, times: 2, action: { kind: "gzipBomb", mb: 100 } },
      { method: "getBlock", slot: dup, times: 2, action: { kind: "mutate", what: "dupTx" } },
      // For good (no `times`): every getBlocks, at every commitment, leaves it out until the reference is written.
      { slot: left, action: { kind: "omit" } },
      // Once: the node calls a produced block skipped, then serves it; its child names it all along.
      { method: "getBlock", slot: flaky, times: 1, action: { kind: "error", code: -32007 } },
    ];
    run.spec.rules.push(...rules);
    const proc = startSlotline(run);
    let exited: number | null | undefined;
    void proc.exited.then((c) => (exited = c));

    await produce(run.chain, 16, 150);
    // The left-out block is served by getBlock but never listed by getBlocks, and its child names it.
    const rpc = async <T>(method: string, params: unknown[]): Promise<T> =>
      (
        (await fetch(run!.chain.rpcUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
        }).then((r) => r.json())) as { result: T }
      ).result;
    const listed = await rpc<number[]>("getBlocks", [base + 1, base + 10, { commitment: "confirmed" }]);
    expect(listed).not.toContain(left);
    expect(listed).toContain(left + 1);
    const child = await rpc<{ parentSlot: number }>("getBlock", [
      left + 1,
      { commitment: "confirmed", transactionDetails: "none", rewards: false, maxSupportedTransactionVersion: 0 },
    ]);
    expect(child.parentSlot).toBe(left);
    // The ops endpoint answers through the faults (the process starts while they fire).
    await waitFor("/health to answer", async () => (await health(run!).catch(() => null))?.status === 200, 30_000);

    // The left-out block is indexed by the faulty run itself (before the oracle turns the faults off), the resume
    // point passes it, and it stays indexed through finality (its finalized child names it).
    await waitFor(
      "the left-out block to be indexed and finalized, and the resume point to pass it",
      async () => {
        const r = await query<{ status: string; commitment: string | null; cursor: string }>(
          run!.db.url,
          `select s.status, s.commitment, (select slot::text from cursors where id = 'live') as cursor
             from slots s where s.slot = $1`,
          [left],
        );
        return r[0]?.status === "indexed" && r[0].commitment === "finalized" && Number(r[0].cursor) > left;
      },
      60_000,
    );
    expect(rules[3]!.hits).toBeGreaterThan(0);
    // The block once answered skipped is fetched again because its child names it, and indexed.
    await waitFor(
      "the block once called skipped to be indexed",
      async () =>
        (await query<{ status: string }>(run!.db.url, "select status from slots where slot = $1", [flaky]))[0]
          ?.status === "indexed",
      30_000,
    );
    expect(rules[4]!.hits).toBe(1);
    expect(getBlockCalls(run.log, flaky).length).toBeGreaterThanOrEqual(2);
    // Both settled: /health reports no gap once the resume point has passed them (the next loop turn).
    await waitFor("/health to report no gap", async () => (await health(run!)).body.gap === undefined, 15_000);
    expect((await health(run)).status).toBe(200);
    // Still up once the faults have fired (the oracle then stops it with SIGTERM and expects exit code 0).
    expect(exited).toBeUndefined();
    const { indexed } = await expectConverged(run, 90_000);
    expect(indexed).toEqual(expect.arrayContaining([huge, bomb, dup, left, flaky]));
    // Each fault fired: two hostile answers each for the giant length and the bomb, then a good one.
    expect(rules.slice(0, 3).map((r) => r.hits ?? 0)).toEqual([2, 2, 2]);
    expect(getBlockCalls(run.log, huge).length).toBeGreaterThanOrEqual(3);
    // The block with a repeated signature was refused (retried as malformed) and stored from a good answer, once.
    const dupRows = await query<{ n: number; d: number }>(
      run.db.url,
      "select count(*)::int as n, count(distinct signature)::int as d from transactions where slot = $1",
      [dup],
    );
    expect(dupRows[0]!.n).toBe(dupRows[0]!.d);
  }, 150_000);
});
