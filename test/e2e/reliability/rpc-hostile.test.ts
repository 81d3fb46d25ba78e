/**
 * The hostile-RPC run: the local chain answers getBlock with a 5 GiB Content-Length, a gzip bomb and a block holding
 * the same transaction twice. The `slotline start` process stays up and every table equals the fault-free reference.
 * (A block left out of getBlocks, the chain's `omit` fault, needs ingest to verify parent links: not done yet.)
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
  test("giant Content-Length, gzip bomb, duplicated signature: the worker stays up, digests equal the reference", async () => {
    // A 64 MB answer cap, so the bomb (100 MiB inflated) is past it without inflating 256 MB in a test.
    run = await setUpRpcRun({ extra: { RPC_MAX_ANSWER_MB: "64" } });
    const base = run.chain.slot("processed");
    const [huge, bomb, dup] = [base + 2, base + 3, base + 5];
    const rules: FaultRule[] = [
      { method: "getBlock", slot: huge, times: 2, action: { kind: "hugeLength" } },
      { method: "getBlock", slot: bomb, times: 2, action: { kind: "gzipBomb", mb: 100 } },
      { method: "getBlock", slot: dup, times: 2, action: { kind: "mutate", what: "dupTx" } },
    ];
    run.spec.rules.push(...rules);
    const proc = startSlotline(run);
    let exited: number | null | undefined;
    void proc.exited.then((c) => (exited = c));

    await produce(run.chain, 10, 150);
    // The ops endpoint answers through the faults (the process starts while they fire).
    await waitFor("/health to answer", async () => (await health(run!).catch(() => null))?.status === 200, 30_000);

    // Still up once the faults have fired (the oracle then stops it with SIGTERM and expects exit code 0).
    expect(exited).toBeUndefined();
    const { indexed } = await expectConverged(run, 90_000);
    expect(indexed).toEqual(expect.arrayContaining([huge, bomb, dup]));
    // Each fault fired: two hostile answers each for the giant length and the bomb, then a good one.
    expect(rules.map((r) => r.hits ?? 0)).toEqual([2, 2, 2]);
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
