import { afterEach, describe, expect, test } from "vitest";
import { DEEP_REORG_WINDOW } from "../../../indexer/ingest/live.js";
import { caughtUp, query } from "../../setup/ingest-env.js";
import { spawnSlotline, waitFor } from "../../setup/processes.js";
import { writeReference } from "../../setup/reference.js";
import { freePort } from "../../setup/private-services.js";
import { createTestDatabase } from "../../setup/services.js";
import { inject } from "vitest";
import { expectConverged, produce, type Run, setUpRun } from "./converge.js";
import { holderMismatches } from "../../setup/balances-oracle.js";

// Finality (C2) and forks below it (C3), against a real `slotline start` on the local chain.
/** A port the OS says is free (a random one in 20,000-40,000 can collide with an ephemeral port). */
const port = async () => String(await freePort());
const FINALITY_MS = 1_500;

/** md5 of every data row and `slots` row of slots stored as finalized at or below `upTo`. */
async function finalizedDigest(dbUrl: string, upTo: number): Promise<Record<string, string | null>> {
  const fin = `select slot from slots where status = 'indexed' and commitment = 'finalized' and slot <= ${upTo}`;
  const out: Record<string, string | null> = {};
  for (const [t, order] of <[string, string][]>[
    ["transactions", "signature"],
    ["token_transfers", "signature, instruction_path"],
    ["swaps", "signature, instruction_path"],
    ["liquidity_events", "signature, instruction_path"],
    ["program_events", "signature, instruction_path, kind, name, ordinal"],
  ])
    out[t] = (
      await query<{ m: string | null }>(
        dbUrl,
        `select md5(string_agg(t::text, '|' order by ${order})) as m from ${t} t where slot in (${fin})`,
      )
    )[0]!.m;
  out.slots = (
    await query<{ m: string | null }>(
      dbUrl,
      `select md5(string_agg(row(slot, status, commitment, blockhash, tx_count)::text, '|' order by slot)) as m from slots where slot in (${fin})`,
    )
  )[0]!.m;
  return out;
}

describe("finality and forks", () => {
  let run: Run | undefined;
  afterEach(async () => {
    await run?.cleanup();
    run = undefined;
  });

  async function start(): Promise<{ r: Run; metricsPort: string; apiPort: string }> {
    const metricsPort = await port();
    const apiPort = await port();
    run = await setUpRun({
      extra: { FINALITY_INTERVAL_MS: String(FINALITY_MS), METRICS_PORT: metricsPort, API_PORT: apiPort },
    });
    run.procs.push(spawnSlotline(["start"], run.env));
    await waitFor(
      "ingest to start",
      async () => (await query(run!.db.url, "select 1 from cursors where id = 'live'")).length === 1,
      30_000,
    );
    return { r: run, metricsPort, apiPort };
  }

  test("C2: finality promoted within 2 polls, indexerStatus matches the database, the change log is pruned below finality", async () => {
    const { r, apiPort } = await start();
    await produce(r.chain, 24, 150);
    const tip = r.chain.slot("confirmed");
    await waitFor("ingest to catch up", () => caughtUp(r.db.url, tip), 60_000);
    // The chain stops here: from now, every stored slot at or below its finalized slot must be marked within two polls.
    const fin = r.chain.slot("finalized");
    const t0 = Date.now();
    await waitFor(
      "slots at or below the finalized slot to be marked finalized",
      async () => {
        const [x] = await query<{ n: number }>(
          r.db.url,
          "select count(*)::int as n from slots where status = 'indexed' and commitment = 'confirmed' and slot <= $1",
          [fin],
        );
        return x!.n === 0;
      },
      30_000,
      100,
    );
    // Two polls of FINALITY_INTERVAL_MS, plus a margin for a shared machine.
    expect(Date.now() - t0).toBeLessThan(2 * FINALITY_MS + 3_000);
    const [db] = await query<{ latest: string; resume: string; finalized: string }>(
      r.db.url,
      `select (select max(slot)::text from slots where status = 'indexed') as latest, (select slot::text from cursors where id = 'live') as resume,
              (select max(slot)::text from slots where status = 'indexed' and commitment = 'finalized') as finalized`,
    );
    // The API (GraphQL, same process) says what the database says; finalizedSlot is the newer of stored and chain.
    await waitFor(
      "indexerStatus to match the database",
      async () => {
        const res = await fetch(`http://127.0.0.1:${apiPort}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query: "{ indexerStatus { latestSlot resumeSlot finalizedSlot } }" }),
        });
        const s = ((await res.json()) as { data: { indexerStatus: Record<string, number> } }).data.indexerStatus;
        return (
          s.latestSlot === Number(db!.latest) &&
          s.resumeSlot === Number(db!.resume) &&
          s.finalizedSlot === Math.max(Number(db!.finalized), fin)
        );
      },
      10_000,
    );
    // Pruned: an unpruned log of the same slots (the reference pipeline never marks finality) holds more rows, and
    // below finality no key keeps more than the four rows a rollback can need.
    const indexed = (
      await query<{ s: string }>(r.db.url, "select slot::text as s from slots where status = 'indexed' order by slot")
    ).map((x) => Number(x.s));
    const ref = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    r.cleanups.push(() => ref.drop());
    await writeReference(r.chain.rpcUrl, ref.url, indexed, "confirmed");
    const count = async (url: string) =>
      (await query<{ n: number }>(url, "select count(*)::int as n from slot_changes"))[0]!.n;
    const [pruned, full] = [await count(r.db.url), await count(ref.url)];
    expect(pruned).toBeLessThan(full);
    const [most] = await query<{ n: number }>(
      r.db.url,
      "select coalesce(max(n), 0)::int as n from (select count(*) as n from slot_changes where slot <= $1 group by kind, key) x",
      [fin],
    );
    expect(most!.n).toBeLessThanOrEqual(4);
    expect(await r.procs[0]!.kill("SIGTERM")).toBe(0);
  }, 120_000);

  test("C1: a confirmed slot dropped by a fork is rolled back: balances, holders and supply equal a run that never saw it", async () => {
    run = await setUpRun({
      faults: "fork=slot:+5",
      extra: { FINALITY_INTERVAL_MS: String(FINALITY_MS), API_PORT: await port() },
    });
    const r = run;
    const [fork] = r.chain.forkSlots as [number];
    r.procs.push(spawnSlotline(["start"], r.env));
    await waitFor(
      "ingest to start",
      async () => (await query(r.db.url, "select 1 from cursors where id = 'live'")).length === 1,
      30_000,
    );
    while (r.chain.slot("confirmed") < fork) await produce(r.chain, 1, 150);
    await waitFor(
      "the fork slot to be stored with its balances",
      async () =>
        (await query(r.db.url, "select 1 from token_account_changes where slot = $1 limit 1", [fork])).length === 1,
      30_000,
    );
    await produce(r.chain, 16, 150);
    await waitFor(
      "the fork slot to be rolled back",
      async () =>
        (await query(r.db.url, "select 1 from slots where slot = $1 and status = 'rolled_back'", [fork])).length === 1,
      30_000,
    );
    // the digests compared include token_accounts, token_holders, wallets and tokens (supply, holder_count)
    await expectConverged(r);
    expect(await query(r.db.url, "select 1 from token_account_changes where slot = $1", [fork])).toEqual([]);
    expect(await holderMismatches(r.db.url)).toEqual({ holders: [], counts: [] });
  }, 180_000);

  test("C3: a fork below the finalized watermark halts ingest with deep_reorg, /health 503, finalized rows unchanged", async () => {
    const { r, metricsPort } = await start();
    await produce(r.chain, 24, 150);
    const fin = r.chain.slot("finalized");
    await waitFor(
      "everything up to the chain's finalized slot to be finalized in the store",
      async () => {
        const [x] = await query<{ n: number; f: number }>(
          r.db.url,
          "select count(*) filter (where commitment = 'confirmed')::int as n, count(*) filter (where commitment = 'finalized')::int as f from slots where status = 'indexed' and slot <= $1",
          [fin],
        );
        return x!.n === 0 && x!.f > 10;
      },
      60_000,
    );
    const health = async () => {
      const res = await fetch(`http://127.0.0.1:${metricsPort}/health`);
      return { code: res.status, body: (await res.json()) as { status: string; error?: string } };
    };
    expect((await health()).code).toBe(200);
    // A stored finalized slot with transactions, inside the window the tracker re-reads.
    const [victim] = await query<{ s: string }>(
      r.db.url,
      "select slot::text as s from slots where status = 'indexed' and commitment = 'finalized' and tx_count > 0 and slot > $1::int8 - $2::int8 order by slot desc limit 1 offset 2",
      [fin, DEEP_REORG_WINDOW / 2],
    );
    const slot = Number(victim!.s);
    const before = await finalizedDigest(r.db.url, fin);
    const [resumeBefore] = await query<{ s: string }>(
      r.db.url,
      "select slot::text as s from cursors where id = 'live'",
    );

    r.chain.dropFinalized(slot);
    await produce(r.chain, 6, 150);
    await waitFor("/health to report deep_reorg", async () => (await health()).code === 503, 30_000);
    expect((await health()).body).toMatchObject({ status: "failed", error: "deep_reorg" });
    expect(r.procs[0]!.output()).toContain("deep_reorg");
    // Refused, not followed: the abandoned slot and every finalized row are as they were.
    expect(await finalizedDigest(r.db.url, fin)).toEqual(before);
    const [kept] = await query<{ status: string; n: number }>(
      r.db.url,
      "select status, (select count(*)::int from transactions where slot = $1) as n from slots where slot = $1",
      [slot],
    );
    expect(kept).toMatchObject({ status: "indexed" });
    expect(kept!.n).toBeGreaterThan(0);
    // Halted: new slots are not ingested any more (the resume point stays where the halt found it).
    await produce(r.chain, 6, 150);
    await new Promise((res) => setTimeout(res, 2 * FINALITY_MS));
    const [resumeAfter] = await query<{ s: string }>(r.db.url, "select slot::text as s from cursors where id = 'live'");
    expect(Number(resumeAfter!.s)).toBeLessThan(r.chain.slot("confirmed"));
    expect(Number(resumeAfter!.s)).toBeGreaterThanOrEqual(Number(resumeBefore!.s));
    // The process stays up (the API keeps serving finalized data) and stops cleanly.
    expect(await r.procs[0]!.kill("SIGTERM")).toBe(0);
  }, 120_000);
});
