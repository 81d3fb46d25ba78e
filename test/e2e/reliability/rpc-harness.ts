/**
 * Shared pieces of the RPC reliability tests (A1-A5, B3): a hand-driven local chain whose scripted faults and
 * request log the test holds, a fresh database, one `slotline start` process with a known ops port, and the
 * convergence oracle (the faulty run's database equals a fault-free reference over the same slots).
 */
import { createServer } from "node:net";
import { expect, inject } from "vitest";
import { type Chain, createChain, type FaultSpec, parseFaults } from "../../chain/index.js";
import type { RequestLogEntry } from "../../chain/faults.js";
import { diffTable, digestTables } from "../../setup/digest.js";
import { caughtUp, ingestEnv, query } from "../../setup/ingest-env.js";
import { type SlotlineProcess, spawnSlotline, waitFor } from "../../setup/processes.js";
import { writeReference } from "../../setup/reference.js";
import { createTestDatabase, uniquePrefix } from "../../setup/services.js";

/** One run: chain, its fault spec (rules and log), database, the slotline process and its ops port. */
export type RpcRun = {
  chain: Chain;
  spec: FaultSpec;
  log: RequestLogEntry[];
  db: Awaited<ReturnType<typeof createTestDatabase>>;
  env: Record<string, string>;
  opsPort: number;
  apiPort: number;
  proc?: SlotlineProcess;
  /** when expectConverged turned the faults off: later log entries include the reference writer's */
  faultsOffAt?: number;
  cleanup(): Promise<void>;
};

/** A free TCP port (for METRICS_PORT, so the test can read /health and /metrics). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Chain (slots only on `tick()`), database and env; `faults` is a spec string, rules are pushed on `run.spec.rules`. */
export async function setUpRpcRun(opts: { faults?: string; extra?: Record<string, string>; syntheticTps?: number } = {}): Promise<RpcRun> {
  const spec = parseFaults(opts.faults ?? "");
  spec.log = { entries: [] };
  const chain = await createChain({ port: 0, autoProduce: false, syntheticTps: opts.syntheticTps ?? 200, slotMs: 400, finalityLag: 4, faults: spec });
  const db = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
  const opsPort = await freePort();
  const env = ingestEnv(chain, db.url, inject("redisUrl"), uniquePrefix(), { START_SLOT: String(chain.slot("processed") + 1), METRICS_PORT: String(opsPort), ...opts.extra });
  const run: RpcRun = {
    chain,
    spec,
    log: spec.log.entries,
    db,
    env,
    opsPort,
    apiPort: await freePort(),
    async cleanup() {
      await run.proc?.kill("SIGKILL");
      await db.drop().catch(() => {});
      await chain.close();
    },
  };
  return run;
}

/** Starts `slotline start` (ingest, worker and API in one process: one RPC client, one request budget). */
export function startSlotline(run: RpcRun): SlotlineProcess {
  run.proc = spawnSlotline(["start"], { ...run.env, API_PORT: String(run.apiPort) });
  return run.proc;
}

/** Produces `n` slots, one every `everyMs`. */
export async function produce(chain: Chain, n: number, everyMs: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(chain.tick());
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return out;
}

/** GET /health of the process: HTTP status and body. */
export async function health(run: RpcRun): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${run.opsPort}/health`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** One metric's value (summed over labels) from the process's /metrics. */
export async function metric(run: RpcRun, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${run.opsPort}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.split(" ").at(-1));
  return sum;
}

/** getBlock calls in the log for `slot`. */
export const getBlockCalls = (log: RequestLogEntry[], slot: number) => log.filter((e) => e.method === "getBlock" && (e.params as unknown[])[0] === slot);

/**
 * Waits until ingest has caught up and every slot at or below the finalized tip is finalized, then turns the
 * faults off, stops the process (SIGTERM, exit 0), writes the reference over the same slots and compares every
 * table's digest. Returns the indexed slots and the resume point.
 */
export async function expectConverged(run: RpcRun, timeoutMs = 60_000): Promise<{ indexed: number[]; cursor: number }> {
  const { chain, db } = run;
  const out = () => run.proc?.output().slice(-3000) ?? "";
  await produce(chain, 6, 100);
  await waitFor("ingest to catch up with the confirmed tip", () => caughtUp(db.url, chain.slot("confirmed")), timeoutMs).catch(async (err) => {
    const state = await query(db.url, "select (select slot from cursors where id = 'live') as cursor, (select array_agg(slot) from slots where status = 'pending') as pending");
    throw new Error(`${(err as Error).message}: confirmed tip ${chain.slot("confirmed")}, ${JSON.stringify(state)}\n${out()}`);
  });
  const fin = chain.slot("finalized");
  await waitFor("the finality tracker to pass the finalized slot", async () => {
    const r = await query<{ n: number }>(db.url, "select count(*)::int as n from slots where status = 'indexed' and commitment = 'confirmed' and slot <= $1", [fin]);
    return r[0]!.n === 0;
  }, 30_000).catch((err) => {
    throw new Error(`${(err as Error).message}\n${out()}`);
  });
  run.spec.rules.length = 0;
  run.spec.rate429 = 0;
  run.faultsOffAt = Date.now();
  const ref = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
  try {
    const indexed = (await query<{ slot: string }>(db.url, "select slot::text from slots where status = 'indexed' order by slot")).map((r) => Number(r.slot));
    await writeReference(chain.rpcUrl, ref.url, indexed.filter((s) => s <= fin), "finalized");
    await writeReference(chain.rpcUrl, ref.url, indexed.filter((s) => s > fin), "confirmed");
    const expected = await digestTables(ref.url);
    // Token lookups may trail the stored blocks a little.
    await waitFor("the database to equal the reference", async () => JSON.stringify(await digestTables(db.url)) === JSON.stringify(expected), 20_000).catch(() => {});
    expect(await run.proc!.kill("SIGTERM"), out()).toBe(0);
    const [{ cursor }] = (await query<{ cursor: string }>(db.url, "select slot::text as cursor from cursors where id = 'live'")) as [{ cursor: string }];
    const start = Number(run.env.START_SLOT);
    const res = await fetch(chain.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "getBlocks", params: [start, Number(cursor), { commitment: "confirmed" }] }) });
    const canonical = ((await res.json()) as { result: number[] }).result;
    // No produced slot at or below the resume point is missing.
    expect(canonical.filter((s) => !indexed.includes(s))).toEqual([]);
    const actual = await digestTables(db.url);
    for (const table of Object.keys(expected))
      if (actual[table]?.md5 !== expected[table]?.md5) expect.soft({ table, ...(await diffTable(db.url, ref.url, table)) }).toEqual({ table, onlyA: [], onlyB: [] });
    expect(actual).toEqual(expected);
    return { indexed, cursor: Number(cursor) };
  } finally {
    await ref.drop();
  }
}
