/**
 * The chaos run (reliability bar E3): a slot-range backfill and live ingest at once, done by real slotline
 * processes (`backfill` on the queue, `worker`s, `ingest`), while random processes are SIGKILLed at uniformly
 * random moments and restarted. Pass condition: the final database equals, table by table, a fault-free run over
 * the same chain, and no produced slot of the backfill range or below the live resume point is missing.
 * Used by the short chaos test in `npm test` and the long one in `npm run test:chaos`.
 */
import { type Chain, createChain } from "../../devchain/index.js";
import { diffTable, digestTables } from "../setup/digest.js";
import { ingestEnv, query } from "../setup/ingest-env.js";
import { type SlotlineProcess, spawnSlotline, waitFor } from "../setup/processes.js";
import { priceReference, writeReference } from "../setup/reference.js";
import { createTestDatabase, uniquePrefix } from "../setup/services.js";

/** What to run. */
export type ChaosOptions = {
  /** slots produced before the run and backfilled (the range) */
  backfillSlots: number;
  /** SIGKILLs, each after a uniformly random 0..maxKillDelayMs wait */
  kills: number;
  maxKillDelayMs: number;
  /** worker processes and the concurrency of each */
  workers: number;
  concurrency: number;
  /** blocks per backfill job */
  batchSize: number;
  /** a new live slot every `slotEveryMs` while the kills go on */
  slotEveryMs: number;
  /** synthetic transactions per second in produced slots (slots are 400 ms) */
  syntheticTps: number;
  /** job latency failpoint for workers, e.g. "sleep(0-300)" */
  jobLatency: string;
  services: { pgAdminUrl: string; templateDb: string; redisUrl: string };
  log?: (msg: string) => void;
};

/** What happened. */
export type ChaosResult = {
  durationMs: number;
  kills: { role: string; afterMs: number }[];
  backfillRange: [number, number];
  liveRange: [number, number];
  indexedSlots: number;
  missing: number[];
  digest: Record<string, { rows: number; md5: string | null }>;
  reference: Record<string, { rows: number; md5: string | null }>;
  diffs: { table: string; onlyRun: string[]; onlyReference: string[] }[];
};

type Role = "ingest" | "backfill" | `worker-${number}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** getBlocks over [a, b] in spans the chain accepts. */
async function producedBetween(
  chain: Chain,
  a: number,
  b: number,
  commitment: "confirmed" | "finalized",
): Promise<number[]> {
  const out: number[] = [];
  for (let from = a; from <= b; from += 5_000) {
    const res = await fetch(chain.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "getBlocks",
        params: [from, Math.min(b, from + 4_999), { commitment }],
      }),
    });
    out.push(...((await res.json()) as { result: number[] }).result);
  }
  return out;
}

/** The `slots` rows (as digested: indexed only, no wall-clock columns) in one database and not the other. */
async function diffSlots(a: string, b: string): Promise<{ onlyA: string[]; onlyB: string[] }> {
  const sql =
    "select row(slot, status, block_time, parent_slot, blockhash, tx_count)::text as t from slots where status = 'indexed'";
  const [ra, rb] = [
    new Set((await query<{ t: string }>(a, sql)).map((x) => x.t)),
    new Set((await query<{ t: string }>(b, sql)).map((x) => x.t)),
  ];
  return { onlyA: [...ra].filter((x) => !rb.has(x)).slice(0, 5), onlyB: [...rb].filter((x) => !ra.has(x)).slice(0, 5) };
}

/** Runs one chaos run and returns its figures; cleans up every process, database and the chain. */
export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const log = o.log ?? (() => {});
  const t0 = Date.now();
  const cleanups: (() => Promise<unknown>)[] = [];
  const procs = new Map<Role, SlotlineProcess>();
  try {
    const chain = await createChain({
      port: 0,
      autoProduce: false,
      syntheticTps: o.syntheticTps,
      slotMs: 400,
      finalityLag: 4,
    });
    cleanups.push(() => chain.close());
    const first = chain.slot("processed") + 1;
    for (let i = 0; i < o.backfillSlots + 4; i++) chain.tick();
    const backfillRange: [number, number] = [first, first + o.backfillSlots - 1];
    const liveStart = backfillRange[1] + 1;

    const db = await createTestDatabase(o.services.pgAdminUrl, o.services.templateDb);
    cleanups.push(() => db.drop());
    const env = ingestEnv(chain, db.url, o.services.redisUrl, uniquePrefix(), {
      START_SLOT: String(liveStart),
      // A killed worker's jobs go to another after this long (the key is ignored by a build without it).
      WORKER_LOCK_MS: "3000",
    });
    const commands: Record<Role, () => SlotlineProcess> = {
      ingest: () => spawnSlotline(["ingest"], env),
      backfill: () =>
        spawnSlotline(
          [
            "backfill",
            "--from-slot",
            String(backfillRange[0]),
            "--to-slot",
            String(backfillRange[1]),
            "--batch-size",
            String(o.batchSize),
          ],
          env,
        ),
    };
    for (let w = 0; w < o.workers; w++)
      commands[`worker-${w}`] = () =>
        spawnSlotline(["worker", "--concurrency", String(o.concurrency)], {
          ...env,
          SLOTLINE_FAILPOINTS: `job.beforeCommit:${o.jobLatency}`,
        });
    cleanups.push(() => Promise.all([...procs.values()].map((p) => p.kill("SIGKILL"))));
    for (const [role, start] of Object.entries(commands) as [Role, () => SlotlineProcess][]) procs.set(role, start());

    // Live slots keep coming for the whole run.
    let producing = true;
    const producer = (async () => {
      while (producing) {
        chain.tick();
        await sleep(o.slotEveryMs);
      }
    })();

    const kills: ChaosResult["kills"] = [];
    let backfillDone = false;
    for (let k = 0; k < o.kills; k++) {
      await sleep(Math.random() * o.maxKillDelayMs);
      const bf = procs.get("backfill");
      if (bf && bf.child.exitCode !== null) {
        // A backfill that finished leaves the pool of victims; one that failed fails the run.
        if (bf.child.exitCode !== 0)
          throw new Error(`backfill exited ${bf.child.exitCode}: ${bf.output().slice(-2000)}`);
        procs.delete("backfill");
        backfillDone = true;
      }
      const roles = [...procs.keys()];
      const role = roles[Math.floor(Math.random() * roles.length)]!;
      await procs.get(role)!.kill("SIGKILL");
      procs.set(role, commands[role]!());
      kills.push({ role, afterMs: Date.now() - t0 });
      log(`kill ${k + 1}/${o.kills}: ${role} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    producing = false;
    await producer;
    // A few more slots so the finality tracker sees every live slot finalized.
    for (let i = 0; i < 6; i++) {
      chain.tick();
      await sleep(100);
    }
    const tip = chain.slot("confirmed");
    const fin = chain.slot("finalized");
    log(`kills done at ${((Date.now() - t0) / 1000).toFixed(1)} s; waiting for convergence (tip ${tip})`);

    if (!backfillDone) {
      const bf = procs.get("backfill")!;
      const code = await Promise.race([bf.exited, sleep(300_000).then(() => "timeout")]);
      if (code !== 0) {
        const dead = await query(db.url, "select job_id, error, attempts from dead_letters order by id desc limit 10");
        throw new Error(
          `backfill did not finish (exit ${code}); dead letters ${JSON.stringify(dead)}: ${bf.output().slice(-3000)}`,
        );
      }
      procs.delete("backfill");
    }
    await waitFor(
      "live ingest to reach the tip and every slot to finalize",
      async () => {
        const [r] = await query<{ cursor: string | null; pending: number; unfinal: number }>(
          db.url,
          `select (select slot::text from cursors where id = 'live') as cursor, (select count(*)::int from slots where status = 'pending') as pending,
                  (select count(*)::int from slots where status = 'indexed' and commitment = 'confirmed' and slot <= $1) as unfinal`,
          [fin],
        );
        return r!.cursor !== null && Number(r!.cursor) >= tip && r!.pending === 0 && r!.unfinal === 0;
      },
      300_000,
      500,
    ).catch(async (err) => {
      const state = await query(
        db.url,
        "select (select slot from cursors where id = 'live') as cursor, (select array_agg(slot) from slots where status = 'pending') as pending",
      );
      throw new Error(
        `${(err as Error).message}: ${JSON.stringify(state)}\n${[...procs.values()].map((p) => p.output().slice(-2000)).join("\n---\n")}`,
      );
    });
    const [{ cursor }] = (await query<{ cursor: string }>(
      db.url,
      "select slot::text as cursor from cursors where id = 'live'",
    )) as [{ cursor: string }];
    const liveRange: [number, number] = [liveStart, Number(cursor)];

    // The gap query: every produced slot of the backfill range and of the live range up to the resume point is stored.
    const canonical = [
      ...(await producedBetween(chain, ...backfillRange, "finalized")),
      ...(await producedBetween(chain, ...liveRange, "confirmed")),
    ];
    const indexed = new Set(
      (await query<{ slot: string }>(db.url, "select slot::text from slots where status = 'indexed'")).map((r) =>
        Number(r.slot),
      ),
    );
    const missing = canonical.filter((s) => !indexed.has(s));
    // Slots indexed above the resume point at the end (finalized by now) belong in the reference too.
    const extra = [...indexed].filter((s) => s > liveRange[1]).sort((a, b) => a - b);

    const ref = await createTestDatabase(o.services.pgAdminUrl, o.services.templateDb);
    cleanups.push(() => ref.drop());
    log(
      `writing the fault-free reference (${canonical.length + extra.length} slots; live ${liveRange.join("..")}, finalized ${fin}, above the resume point ${extra.join(",")})`,
    );
    const all = [...canonical, ...extra];
    // Slots above the finalized one are read at confirmed, as ingest read them.
    await writeReference(
      chain.rpcUrl,
      ref.url,
      all.filter((s) => s <= fin),
      "finalized",
    );
    await writeReference(
      chain.rpcUrl,
      ref.url,
      all.filter((s) => s > fin),
      "confirmed",
    );
    // The pricing stage (in the ingest process, behind the resume point) is compared too: the reference is priced
    // over the same slots, and its rows are keyed `pricing.<table>` beside the others.
    if (all.length) await priceReference(ref.url, Math.max(...all));
    const reference = await digestAll(ref.url);
    // Token lookups may trail the last batch a little, and the pricing stage the resume point: give them a moment.
    await waitFor(
      "the database to equal the reference",
      async () => JSON.stringify(await digestAll(db.url)) === JSON.stringify(reference),
      30_000,
    ).catch(() => {});
    for (const [role, p] of procs) {
      const code = await p.kill("SIGTERM");
      if (code !== 0)
        throw new Error(`${role} did not stop cleanly on SIGTERM (exit ${code}): ${p.output().slice(-2000)}`);
    }
    procs.clear();
    const digest = await digestAll(db.url);
    const diffs: ChaosResult["diffs"] = [];
    for (const table of Object.keys(reference))
      if (digest[table]?.md5 !== reference[table]?.md5) {
        const name = table.replace(/^pricing\./, "");
        const d = table === "slots" ? await diffSlots(db.url, ref.url) : await diffTable(db.url, ref.url, name);
        diffs.push({ table, onlyRun: d.onlyA, onlyReference: d.onlyB });
      }
    return {
      durationMs: Date.now() - t0,
      kills,
      backfillRange,
      liveRange,
      indexedSlots: indexed.size,
      missing,
      digest,
      reference,
      diffs,
    };
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  }
}

/** The data tables' digests and the pricing stage's (keyed `pricing.<table>`), in one record. */
async function digestAll(url: string): Promise<Awaited<ReturnType<typeof digestTables>>> {
  const pricing = await digestTables(url, { pricing: true });
  return {
    ...(await digestTables(url)),
    ...Object.fromEntries(Object.entries(pricing).map(([table, d]) => [`pricing.${table}`, d])),
  };
}
