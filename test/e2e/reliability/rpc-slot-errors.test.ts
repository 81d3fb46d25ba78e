/**
 * A2 and A3 in one run: -32007 and -32009 on slots getBlocks listed are recorded skipped once and passed; a
 * never-ending -32004 holds the resume point below its slot, is never recorded skipped, and /health names it,
 * while the slots after it are stored.
 */
import { afterEach, describe, expect, test } from "vitest";
import { query } from "../../setup/ingest-env.js";
import { waitFor } from "../../setup/processes.js";
import { getBlockCalls, health, produce, type RpcRun, setUpRpcRun, startSlotline } from "./rpc-harness.js";

let run: RpcRun | undefined;
afterEach(async () => {
  await run?.cleanup();
  run = undefined;
});

describe("A2/A3: slot error codes", () => {
  test("-32007 and -32009 on listed slots: skipped once, getBlock at most twice, resume passes them; -32004 forever: resume stops at S-1, /health stuckSlot S, not skipped, later slots stored", async () => {
    run = await setUpRpcRun();
    const base = run.chain.slot("processed");
    const [skipped7, skipped9, stuck] = [base + 2, base + 3, base + 5];
    run.spec.rules.push(
      {
        method: "getBlock",
        slot: skipped7,
        action: {
          kind: "error",
          code: -32007,
          message: `Slot ${skipped7} was skipped, or missing due to ledger jump to recent snapshot`,
        },
      },
      {
        method: "getBlock",
        slot: skipped9,
        action: {
          kind: "error",
          code: -32009,
          message: `Slot ${skipped9} was skipped, or missing in long-term storage`,
        },
      },
      {
        method: "getBlock",
        slot: stuck,
        action: { kind: "error", code: -32004, message: `Block not available for slot ${stuck}` },
      },
    );
    startSlotline(run);
    const slots = await produce(run.chain, 14, 150);
    const after = slots.filter((s) => s > stuck && s <= run!.chain.slot("confirmed"));

    await waitFor(
      "/health to report the stuck slot",
      async () => (await health(run!)).body.stuckSlot === stuck,
      45_000,
    ).catch(async (err) => {
      throw new Error(
        `${(err as Error).message}: ${JSON.stringify((await health(run!)).body)}\n${run!.proc!.output().slice(-3000)}`,
      );
    });
    await waitFor(
      "the slots after the stuck one to be stored",
      async () => {
        const r = await query<{ n: number }>(
          run!.db.url,
          "select count(*)::int as n from slots where slot = any($1::int8[]) and status = 'indexed'",
          [after],
        );
        return r[0]!.n === after.length;
      },
      30_000,
    );

    const rows = await query<{ slot: string; status: string }>(
      run.db.url,
      "select slot::text, status from slots where slot between $1 and $2 order by slot",
      [base + 1, stuck],
    );
    const status = Object.fromEntries(rows.map((r) => [Number(r.slot), r.status]));
    expect(status[skipped7]).toBe("skipped");
    expect(status[skipped9]).toBe("skipped");
    // -32004 is "not yet", never "skipped": the slot stays pending and holds the resume point.
    expect(status[stuck]).toBe("pending");
    const [{ cursor }] = (await query<{ cursor: string }>(
      run.db.url,
      "select slot::text as cursor from cursors where id = 'live'",
    )) as [{ cursor: string }];
    expect(Number(cursor)).toBe(stuck - 1);
    const h = await health(run);
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ stuckSlot: stuck, stuck: { slot: stuck, deadLettered: false } });
    expect((h.body.stuck as { attempts: number }).attempts).toBeGreaterThanOrEqual(3);
    expect((h.body.stuck as { error: string }).error).toMatch(/-32004/);

    // Skipped slots are asked for at most twice (the worker, and once more by the finality pass); the stuck one is
    // retried.
    expect(getBlockCalls(run.log, skipped7).length).toBeGreaterThanOrEqual(1);
    expect(getBlockCalls(run.log, skipped7).length).toBeLessThanOrEqual(2);
    expect(getBlockCalls(run.log, skipped9).length).toBeLessThanOrEqual(2);
    expect(getBlockCalls(run.log, stuck).length).toBeGreaterThanOrEqual(3);
    const dl = await query<{ n: number }>(run.db.url, "select count(*)::int as n from dead_letters");
    expect(dl[0]!.n).toBe(0);

    // The block arrives at last: the slot is stored, the resume point passes it, /health no longer reports it.
    run.spec.rules.length = 0;
    await waitFor(
      "the stuck slot to be stored once its block is available",
      async () => {
        const r = await query<{ status: string }>(run!.db.url, "select status from slots where slot = $1", [stuck]);
        return r[0]?.status === "indexed";
      },
      40_000,
    );
    await waitFor(
      "the resume point to pass it",
      async () => {
        const r = await query<{ cursor: string }>(
          run!.db.url,
          "select slot::text as cursor from cursors where id = 'live'",
        );
        return Number(r[0]!.cursor) > stuck && (await health(run!)).body.stuckSlot === undefined;
      },
      10_000,
    );
  }, 120_000);
});
