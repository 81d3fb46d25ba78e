/**
 * Every recorded transaction of every fixture folder (mainnet and localnet blocks, single transactions of every
 * program) through the real processes: a slot-range backfill over every slot the local chain serves, and live ingest
 * over new slots cloned from all of them. Nothing may be dead-lettered and the resume point must reach the tip.
 * @dev this is what would have caught the two-hop swap paths (N#1) that dead-lettered their slots.
 */
import { afterAll, afterEach, describe, expect, inject, test } from "vitest";
import { type Chain, createChain } from "../../devchain/index.js";
import { runCli } from "../setup/cli.js";
import { FIXTURES_DIR } from "../setup/fixtures.js";
import { caughtUp, ingestEnv, query } from "../setup/ingest-env.js";
import { freePort } from "../setup/private-services.js";
import { spawnSlotline, waitFor } from "../setup/processes.js";
import { createTestDatabase, uniquePrefix } from "../setup/services.js";

describe("every fixture folder, through backfill and live ingest", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  });
  afterAll(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  });

  async function freshDb() {
    const db = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    cleanups.push(() => db.drop());
    return db;
  }

  async function deadLetters(url: string): Promise<string[]> {
    return (await query<{ e: string }>(url, "select job_id || ': ' || error as e from dead_letters")).map((r) => r.e);
  }

  test("backfill --inline from the first available block to the finalized tip: no dead letter, the range done", async () => {
    const chain: Chain = await createChain({ port: 0, once: true, fixtures: [FIXTURES_DIR] });
    cleanups.push(() => chain.close());
    const db = await freshDb();
    const env = ingestEnv(chain, db.url, inject("redisUrl"), uniquePrefix());
    const rpc = async (method: string, params: unknown[] = []) =>
      (
        (await (
          await fetch(chain.rpcUrl, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
          })
        ).json()) as { result: number }
      ).result;
    const first = await rpc("getFirstAvailableBlock");
    const tip = await rpc("getSlot", [{ commitment: "finalized" }]);
    // more than the default chain's 59 slots: every program folder and the localnet blocks are served too
    expect(chain.history.slots.length).toBeGreaterThan(59);
    const r = await runCli(
      ["backfill", "--from-slot", String(first), "--to-slot", String(tip), "--inline"],
      env,
      240_000,
    );
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    expect(await deadLetters(db.url)).toEqual([]);
    const [cursor] = await query<{ status: string; slot: string }>(
      db.url,
      "select status, slot::text as slot from cursors where kind = 'backfill'",
    );
    expect(cursor).toMatchObject({ status: "done" });
    expect(Number(cursor!.slot)).toBeGreaterThan(tip);
    // every served slot is stored or known skipped
    const known = new Set(
      (
        await query<{ s: string }>(db.url, "select slot::text as s from slots where status in ('indexed', 'skipped')")
      ).map((x) => Number(x.s)),
    );
    expect(chain.history.slots.filter((s) => !known.has(s))).toEqual([]);
    // the two-hop swaps are among them
    const [legs] = await query<{ n: number }>(
      db.url,
      "select count(*)::int as n from swaps where instruction_path like '%#%'",
    );
    expect(legs!.n).toBeGreaterThan(0);
  }, 300_000);

  test("live ingest over load cloned from every fixture: no dead letter, the resume point follows the tip", async () => {
    const chain: Chain = await createChain({
      port: 0,
      fixtures: [FIXTURES_DIR],
      slotMs: 200,
      syntheticTps: 500,
      finalityLag: 8,
    });
    cleanups.push(() => chain.close());
    const db = await freshDb();
    // from the first new slot: the recorded history is the backfill's test above
    const start = chain.slot("confirmed") + 1;
    const proc = spawnSlotline(
      ["start"],
      ingestEnv(chain, db.url, inject("redisUrl"), uniquePrefix(), {
        START_SLOT: String(start),
        API_PORT: String(await freePort()),
      }),
    );
    cleanups.push(() => proc.kill("SIGTERM"));
    // 70 new slots of 100 cloned transactions: at 1 slot in 35 carrying a two-hop swap, a couple of them at least
    const target = start + 70;
    await chain.waitForSlot(target, "confirmed", 60_000);
    await waitFor("ingest to reach the tip", () => caughtUp(db.url, target), 90_000).catch(async (err) => {
      const [c] = await query(
        db.url,
        "select (select slot from cursors where id = 'live') as cursor, (select min(slot) from slots where status = 'pending') as pending",
      );
      throw new Error(
        `${(err as Error).message}: ${JSON.stringify(c)}, dead letters ${JSON.stringify(await deadLetters(db.url))}\n${proc.output().slice(-3000)}`,
      );
    });
    expect(await deadLetters(db.url), proc.output().slice(-2000)).toEqual([]);
    const [stored] = await query<{ n: number; legs: number }>(
      db.url,
      "select (select count(*)::int from transactions) as n, (select count(*)::int from swaps where instruction_path like '%#%') as legs",
    );
    expect(stored!.n).toBeGreaterThan(1000);
    expect(stored!.legs).toBeGreaterThan(0);
  }, 240_000);
});
