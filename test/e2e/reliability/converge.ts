/**
 * Shared pieces of the reliability e2e tests: a local chain + database + slotline processes, and the convergence
 * oracle (the faulty run's database equals, table by table, a fault-free reference over the same slots, and no
 * produced slot at or below the resume point is missing).
 */
import { writeFileSync } from "node:fs";
import { expect, inject } from "vitest";
import { type Chain, createChain } from "../../../devchain/index.js";
import { diffTable, digestTables } from "../../setup/digest.js";
import { caughtUp, ingestEnv, query } from "../../setup/ingest-env.js";
import { type SlotlineProcess, waitFor } from "../../setup/processes.js";
import { priceReference, writeReference } from "../../setup/reference.js";
import { createTestDatabase, uniquePrefix } from "../../setup/services.js";

/** One run: chain, database, processes and their environment; `cleanup()` kills and drops everything. */
export type Run = {
  chain: Chain;
  db: Awaited<ReturnType<typeof createTestDatabase>>;
  procs: SlotlineProcess[];
  env: Record<string, string>;
  cleanups: (() => Promise<unknown>)[];
  cleanup(): Promise<void>;
};

/** A hand-driven chain (slots only on `tick()`), a fresh database, and the env of processes on `redisUrl`. */
export async function setUpRun(
  opts: {
    redisUrl?: string;
    dbAdminUrl?: string;
    template?: string;
    extra?: Record<string, string>;
    faults?: string;
    syntheticTps?: number;
  } = {},
): Promise<Run> {
  const chain = await createChain({
    port: 0,
    autoProduce: false,
    syntheticTps: opts.syntheticTps ?? 200,
    slotMs: 400,
    finalityLag: 4,
    faults: opts.faults ?? "",
  });
  const db = await createTestDatabase(
    opts.dbAdminUrl ?? inject("pgAdminUrl"),
    opts.template === undefined ? inject("templateDb") : opts.template,
  );
  const env = ingestEnv(chain, db.url, opts.redisUrl ?? inject("redisUrl"), uniquePrefix(), {
    START_SLOT: String(chain.slot("processed") + 1),
    WS_STALL_MS: "1500",
    ...opts.extra,
  });
  const run: Run = {
    chain,
    db,
    procs: [],
    env,
    cleanups: [],
    async cleanup() {
      await Promise.all(run.procs.map((p) => p.kill("SIGKILL")));
      for (const c of run.cleanups.splice(0).reverse()) await c().catch(() => {});
      await db.drop().catch(() => {});
      await chain.close();
    },
  };
  return run;
}

/** Produces `n` slots, one every `everyMs`, calling `during(i)` after each. */
export async function produce(chain: Chain, n: number, everyMs: number, during?: (i: number) => Promise<void>) {
  for (let i = 0; i < n; i++) {
    chain.tick();
    await during?.(i);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** What the convergence oracle needs of a run (the reliability runs, the fault runs and the RPC runs all have it). */
export type ConvergingRun = Pick<Run, "chain" | "db" | "procs" | "env">;

function dump(run: ConvergingRun) {
  const name = new URL(run.db.url).pathname.slice(1);
  run.procs.forEach((p, i) => writeFileSync(`/tmp/slotline-reliability-${name}-proc-${i}.log`, p.output()));
}

/**
 * The convergence oracle, shared by every fault test: waits for convergence, stops the processes with SIGTERM (each
 * must exit 0), and compares with the reference written by the plain pipeline over the same slots.
 * `referenceAdminUrl`: where the reference database lives; `beforeReference`: e.g. turn the chain's faults off;
 * `minSlots`: the run must have covered at least this many produced slots.
 */
export async function expectConverged(
  run: ConvergingRun,
  opts: {
    referenceAdminUrl?: string;
    referenceTemplate?: string;
    timeoutMs?: number;
    beforeReference?: () => void;
    minSlots?: number;
  } = {},
) {
  const { chain, db } = run;
  // A few more slots so the finality tracker sees every ingested slot finalized (or dropped).
  await produce(chain, 6, 100);
  await waitFor(
    "ingest to catch up with the confirmed tip",
    () => caughtUp(db.url, chain.slot("confirmed")),
    opts.timeoutMs ?? 60_000,
  ).catch(async (err) => {
    dump(run);
    const state = await query(
      db.url,
      "select (select slot from cursors where id = 'live') as cursor, (select array_agg(slot) from slots where status = 'pending') as pending",
    );
    throw new Error(
      `${(err as Error).message}: confirmed tip ${chain.slot("confirmed")}, ${JSON.stringify(state)}\n${run.procs.map((p) => p.output().slice(-3000)).join("\n---\n")}`,
    );
  });
  const fin = chain.slot("finalized");
  await waitFor(
    "the finality tracker to pass the finalized slot",
    async () => {
      const r = await query<{ n: number }>(
        db.url,
        "select count(*)::int as n from slots where status = 'indexed' and commitment = 'confirmed' and slot <= $1",
        [fin],
      );
      return r[0]!.n === 0;
    },
    30_000,
  ).catch((err) => {
    dump(run);
    throw new Error(`${(err as Error).message}\n${run.procs.map((p) => p.output().slice(-3000)).join("\n---\n")}`);
  });
  opts.beforeReference?.();
  const ref = await createTestDatabase(
    opts.referenceAdminUrl ?? inject("pgAdminUrl"),
    opts.referenceTemplate ?? inject("templateDb"),
  );
  try {
    return await compareWithReference(run, ref.url, fin, opts.minSlots);
  } finally {
    await ref.drop().catch(() => {});
  }
}

async function compareWithReference(run: ConvergingRun, refUrl: string, fin: number, minSlots = 11) {
  const { chain, db } = run;
  const indexedNow = (
    await query<{ slot: string }>(db.url, "select slot::text from slots where status = 'indexed' order by slot")
  ).map((r) => Number(r.slot));
  await writeReference(
    chain.rpcUrl,
    refUrl,
    indexedNow.filter((s) => s <= fin),
    "finalized",
  );
  await writeReference(
    chain.rpcUrl,
    refUrl,
    indexedNow.filter((s) => s > fin),
    "confirmed",
  );
  const expected = await digestTables(refUrl);
  // Token lookups may trail the stored blocks a little.
  await waitFor(
    "the database to equal the fault-free reference",
    async () => JSON.stringify(await digestTables(db.url)) === JSON.stringify(expected),
    20_000,
  ).catch(() => {});
  // The pricing stage runs in the ingest process behind the resume point (block mode): once it has caught up with it,
  // its rows equal the reference's priced over the same slots.
  const pricing = run.env.INGEST_MODE !== "logs" && indexedNow.length > 0;
  let expectedPricing: Awaited<ReturnType<typeof digestTables>> = {};
  if (pricing) {
    await priceReference(refUrl, Math.max(...indexedNow));
    expectedPricing = await digestTables(refUrl, { pricing: true });
    await waitFor(
      "the pricing stage to catch up with the resume point and equal the reference",
      async () => {
        const [r] = await query<{ caught: boolean | null }>(
          db.url,
          "select (select slot from cursors where id = 'pricing') >= (select slot from cursors where id = 'live') as caught",
        );
        return (
          r?.caught === true &&
          JSON.stringify(await digestTables(db.url, { pricing: true })) === JSON.stringify(expectedPricing)
        );
      },
      20_000,
    ).catch(() => {});
  }
  for (const p of run.procs) expect(await p.kill("SIGTERM"), p.output().slice(-2000)).toBe(0);

  const [{ cursor }] = (await query<{ cursor: string }>(
    db.url,
    "select slot::text as cursor from cursors where id = 'live'",
  )) as [{ cursor: string }];
  const indexed = (
    await query<{ slot: string }>(db.url, "select slot::text from slots where status = 'indexed' order by slot")
  ).map((r) => Number(r.slot));
  const start = Number(run.env.START_SLOT);
  const res = await fetch(chain.rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: "1",
      method: "getBlocks",
      params: [start, Number(cursor), { commitment: "confirmed" }],
    }),
  });
  const canonical = ((await res.json()) as { result: number[] }).result;
  expect(canonical.length).toBeGreaterThanOrEqual(minSlots);
  // No produced slot at or below the resume point is missing.
  expect(canonical.filter((s) => !indexed.includes(s))).toEqual([]);
  expect(indexed).toEqual(indexedNow);
  const actual = await digestTables(db.url);
  for (const table of Object.keys(expected))
    if (actual[table]?.md5 !== expected[table]?.md5)
      expect.soft({ table, ...(await diffTable(db.url, refUrl, table)) }).toEqual({ table, onlyA: [], onlyB: [] });
  expect(actual).toEqual(expected);
  if (pricing) {
    const priced = await digestTables(db.url, { pricing: true });
    for (const table of ["token_prices", "pool_tvl", "market_stats", "market_traders", "wallet_pnl"])
      if (priced[table]?.md5 !== expectedPricing[table]?.md5)
        expect.soft({ table, ...(await diffTable(db.url, refUrl, table)) }).toEqual({ table, onlyA: [], onlyB: [] });
    expect(priced).toEqual(expectedPricing);
  }
  // The E2 invariant: no rows of a slot without its `slots` row (no partial slot).
  const orphans = await query<{ n: number }>(
    db.url,
    "select count(*)::int as n from transactions t where not exists (select 1 from slots s where s.slot = t.slot and s.status = 'indexed')",
  );
  expect(orphans[0]!.n).toBe(0);
  return { indexed, cursor: Number(cursor), canonical };
}

/** Reads one metric's value (summed over its labels) from a process's ops endpoint. */
export async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n"))
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.split(" ").at(-1));
  return sum;
}
