/**
 * Shared pieces of the RPC reliability tests (A1-A5, B3): a hand-driven local chain whose scripted faults and
 * request log the test holds, a fresh database, one `slotline start` process with a known ops port, and the
 * convergence oracle (the faulty run's database equals a fault-free reference over the same slots).
 */
import { createServer } from "node:net";
import { inject } from "vitest";
import { type Chain, createChain, type FaultSpec, parseFaults } from "../../../devchain/index.js";
import type { RequestLogEntry } from "../../../devchain/faults.js";
import { ingestEnv } from "../../setup/ingest-env.js";
import { type SlotlineProcess, spawnSlotline } from "../../setup/processes.js";
import { createTestDatabase, uniquePrefix } from "../../setup/services.js";
import { expectConverged as convergeOracle } from "./converge.js";

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

/**
 * Chain (slots only on `tick()`), database and env; `faults` is a spec string, rules are pushed on `run.spec.rules`.
 */
export async function setUpRpcRun(
  opts: { faults?: string; extra?: Record<string, string>; syntheticTps?: number; grpcReplaySlots?: number } = {},
): Promise<RpcRun> {
  const spec = parseFaults(opts.faults ?? "");
  spec.log = { entries: [] };
  const chain = await createChain({
    port: 0,
    autoProduce: false,
    syntheticTps: opts.syntheticTps ?? 200,
    slotMs: 400,
    finalityLag: 4,
    faults: spec,
    ...(opts.grpcReplaySlots === undefined ? {} : { grpcReplaySlots: opts.grpcReplaySlots }),
  });
  const db = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
  const opsPort = await freePort();
  const env = ingestEnv(chain, db.url, inject("redisUrl"), uniquePrefix(), {
    START_SLOT: String(chain.slot("processed") + 1),
    METRICS_PORT: String(opsPort),
    ...opts.extra,
  });
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
  for (const line of text.split("\n"))
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.split(" ").at(-1));
  return sum;
}

/** getBlock calls in the log for `slot`. */
export const getBlockCalls = (log: RequestLogEntry[], slot: number) =>
  log.filter((e) => e.method === "getBlock" && (e.params as unknown[])[0] === slot);

/**
 * The shared convergence oracle (converge.ts) over this run, with the chain's faults turned off before the reference
 * is written (later request-log entries are the reference writer's). Returns the indexed slots and the resume point.
 */
export async function expectConverged(run: RpcRun, timeoutMs = 60_000): Promise<{ indexed: number[]; cursor: number }> {
  return convergeOracle(
    { ...run, procs: run.proc ? [run.proc] : [] },
    {
      timeoutMs,
      minSlots: 0,
      beforeReference: () => {
        run.spec.rules.length = 0;
        run.spec.rate429 = 0;
        run.faultsOffAt = Date.now();
      },
    },
  );
}
