/**
 * The RPC endpoint pool under faults: two local chains serve the same recorded history; the first endpoint of the
 * pool is killed, stalled, answers 429s or lacks blocks in turn. Live ingest and a slot-range backfill each end with
 * every table's digest equal to a one-endpoint fault-free run, and the requests move to the healthy endpoint within
 * seconds (read from the process's metrics and the chains' request logs).
 */
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { type Chain, createChain, type FaultSpec, parseFaults } from "../../../devchain/index.js";
import type { FaultRule, RequestLogEntry } from "../../../devchain/faults.js";
import { runCli } from "../../setup/cli.js";
import { diffTable, digestTables } from "../../setup/digest.js";
import { caughtUp, ingestEnv } from "../../setup/ingest-env.js";
import { spawnSlotline, waitFor } from "../../setup/processes.js";
import { writeReference } from "../../setup/reference.js";
import { createTestDatabase, uniquePrefix } from "../../setup/services.js";
import { freePort } from "./rpc-harness.js";

type Mode = "killed" | "stalled" | "429" | "missing";
/** Seconds within which the ingest must reach the tip, and the healthy endpoint must serve a getBlock. */
const CATCH_UP_S = 90;
const MOVE_S = 5;

/** Per-endpoint values of one metric from a /metrics text: endpoint label -> sum. */
function perEndpoint(text: string, name: string, filter = ""): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) || !line.includes(filter)) continue;
    const ep = /endpoint="([^"]+)"/.exec(line)?.[1];
    if (ep) out.set(ep, (out.get(ep) ?? 0) + Number(line.split(" ").at(-1)));
  }
  return out;
}

describe("RPC endpoint pool: one endpoint killed, stalled, rate-limited or missing blocks", () => {
  let healthy: Chain;
  let healthySpec: FaultSpec;
  let ref: Awaited<ReturnType<typeof createTestDatabase>>;
  let reference: Record<string, unknown>;

  beforeAll(async () => {
    // The healthy chain's request log: kept on a spec object the test holds.
    healthySpec = parseFaults("");
    healthySpec.log = { entries: [] };
    healthy = await createChain({ port: 0, once: true, faults: healthySpec });
    ref = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    await writeReference(healthy.rpcUrl, ref.url, healthy.history.slots, "finalized");
    reference = await digestTables(ref.url);
  }, 120_000);
  afterAll(async () => {
    await healthy?.close();
    await ref?.drop();
  });

  /** Starts the faulty chain with the mode's faults (all but `killed`, which closes it at its first getBlock). */
  async function faultyChain(mode: Mode): Promise<{ chain: Chain; spec: FaultSpec; log: RequestLogEntry[] }> {
    const spec = parseFaults("");
    spec.log = { entries: [] };
    const slots = healthy.history.slots;
    if (mode === "429") spec.rules.push({ action: { kind: "status", status: 429, retryAfter: 1 } });
    if (mode === "stalled") spec.rules.push({ action: { kind: "delay", ms: 60_000 } });
    if (mode === "missing") {
      spec.rules.push({ method: "getBlock", action: { kind: "error", code: -32004, message: "Block not available" } });
      for (const s of [slots[3]!, slots[10]!, slots[20]!]) spec.rules.push({ slot: s, action: { kind: "omit" } });
    }
    const chain = await createChain({ port: 0, once: true, faults: spec });
    if (mode === "killed")
      void waitFor(
        "a first getBlock on the endpoint to kill",
        async () => spec.log!.entries.some((e) => e.method === "getBlock"),
        60_000,
        10,
      )
        .then(() => chain.close())
        .catch(() => {});
    return { chain, spec, log: spec.log.entries };
  }

  /** The first endpoint of the pool faulty, the second healthy; WebSocket from the healthy chain. */
  const poolEnv = (faulty: Chain, dbUrl: string, extra: Record<string, string> = {}) =>
    ingestEnv(healthy, dbUrl, inject("redisUrl"), uniquePrefix(), {
      SOLANA_RPC_URL: `${faulty.rpcUrl}?rps=5000&concurrency=8,${healthy.rpcUrl}?rps=5000&concurrency=8`,
      SOLANA_WS_URL: healthy.wsUrl,
      RPC_TIMEOUT_MS: "1000",
      LOG_LEVEL: "warn",
      ...extra,
    });

  /**
   * Every table's digest equals the reference's. The token enricher reads mints after their slots are stored, so a
   * supply read that timed out on the faulty endpoint is still on its way when ingest has caught up: the tables are
   * given a few seconds to settle.
   */
  async function expectReference(dbUrl: string) {
    let got = await digestTables(dbUrl);
    for (const until = Date.now() + 20_000; JSON.stringify(got) !== JSON.stringify(reference) && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 500));
      got = await digestTables(dbUrl);
    }
    for (const t of Object.keys(reference))
      if (JSON.stringify(got[t]) !== JSON.stringify(reference[t]))
        expect.soft({ t, ...(await diffTable(dbUrl, ref.url, t)) }).toEqual({ t, onlyA: [], onlyB: [] });
    expect(got).toEqual(reference);
  }

  /** The healthy chain's first getBlock at or after the faulty chain's first failed (or unanswered) request. */
  function moveDelayMs(faultyLog: RequestLogEntry[], healthyFrom: number, mode: Mode): number {
    const firstFault =
      mode === "killed"
        ? (faultyLog.find((e) => e.method === "getBlock")?.t ?? 0)
        : mode === "stalled"
          ? (faultyLog[0]?.t ?? 0)
          : (faultyLog.find((e) => e.status === 429 || e.code === -32004)?.t ?? 0);
    const served = healthyLog().find((e) => e.t >= Math.max(firstFault, healthyFrom) && e.method === "getBlock");
    return (served?.t ?? Infinity) - firstFault;
  }
  const healthyLog = () => healthySpec.log!.entries;

  test.each<Mode>(["429", "stalled", "missing", "killed"])(
    "%s: live ingest and a backfill equal the fault-free reference; requests move to the healthy endpoint",
    async (mode) => {
      const { chain: faulty, log } = await faultyChain(mode);
      const live = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
      const back = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
      const opsPort = await freePort();
      const started = Date.now();
      const proc = spawnSlotline(["start"], {
        ...poolEnv(faulty, live.url, { METRICS_PORT: String(opsPort) }),
        API_PORT: String(await freePort()),
      });
      try {
        await waitFor(
          "live ingest to reach the tip through the pool",
          () => caughtUp(live.url, healthy.slot("confirmed")),
          CATCH_UP_S * 1000,
        );
        const caughtUpS = (Date.now() - started) / 1000;
        const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
        const requests = perEndpoint(text, "slotline_rpc_endpoint_requests_total");
        const faultyName = [...requests.keys()].find((k) => k.startsWith("1:"))!;
        const healthyName = [...requests.keys()].find((k) => k.startsWith("2:"))!;
        const share = requests.get(healthyName)! / (requests.get(healthyName)! + requests.get(faultyName)!);
        const move = moveDelayMs(log, started, mode);
        console.log(
          `pool ${mode}: caught up ${caughtUpS.toFixed(1)} s, healthy share ${share.toFixed(2)}, moved ${move} ms`,
        );
        expect(caughtUpS).toBeLessThan(CATCH_UP_S);
        expect(move).toBeLessThan(MOVE_S * 1000);
        if (mode === "missing") {
          // The faulty endpoint answers quickly (an error is an answer): every block came from the other one.
          const line = text
            .split("\n")
            .find((l) => l.startsWith('slotline_rpc_second_opinions_total{outcome="found"}'));
          expect(Number(line?.split(" ").at(-1) ?? 0)).toBeGreaterThan(0);
        } else {
          expect(share).toBeGreaterThan(0.8);
          const errors = perEndpoint(text, "slotline_rpc_endpoint_errors_total");
          expect(errors.get(faultyName) ?? 0).toBeGreaterThan(0);
          expect(errors.get(healthyName) ?? 0).toBe(0);
        }
        await expectReference(live.url);
      } finally {
        await proc.kill("SIGTERM");
      }

      // The same pool for a backfill of the whole history (done inline by the command).
      const [first, last] = [healthy.history.slots[0]!, healthy.history.slots.at(-1)!];
      const r = await runCli(
        ["backfill", "--from-slot", String(first), "--to-slot", String(last), "--inline"],
        poolEnv(faulty, back.url),
        120_000,
      );
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      await expectReference(back.url);

      await faulty.close().catch(() => {});
      await live.drop();
      await back.drop();
    },
    240_000,
  );

  /**
   * One run, the faults in turn on the same endpoint: killed (then started again on its port), stalled, answering
   * 429s, missing blocks. Each fault starts while the endpoint is in rotation (it answered a getBlock since the last
   * fault ended) and ends once a request it failed was served by the healthy endpoint; the endpoint is then healthy
   * again until it has answered a getBlock (rested, probed, back). Both chains answer getBlock GET_BLOCK_MS late and
   * the worker runs one job at a time, so that the recorded history lasts the whole cycle.
   */
  test("in turn within one run: killed, stalled, 429s, missing blocks; requests move at each, digest equal", async () => {
    /** Every getBlock of both chains answered this late, and one job at a time: the history lasts the cycle. */
    const GET_BLOCK_MS = 150;
    const throttle: FaultRule = { method: "getBlock", action: { kind: "delay", ms: GET_BLOCK_MS } };
    /** Seconds within which each fault must be met by a request of the pool, and the whole cycle must end. */
    const FAULT_S = 15;
    const CYCLE_S = 80;
    let spec = parseFaults("");
    spec.log = { entries: [] };
    spec.rules.push(throttle);
    healthySpec.rules.push(throttle);
    let faulty = await createChain({ port: 0, once: true, faults: spec });
    const port = faulty.port;
    const live = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    const opsPort = await freePort();
    const started = Date.now();
    const proc = spawnSlotline(["start"], {
      ...poolEnv(faulty, live.url, {
        METRICS_PORT: String(opsPort),
        WORKER_CONCURRENCY: "1",
        // A getBlock answered late on a busy machine is not a fault: only the stalled endpoint times out.
        RPC_TIMEOUT_MS: "2000",
      }),
      API_PORT: String(await freePort()),
    });
    const metricsText = async () => (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
    const faultyErrors = async (kind: string) =>
      perEndpoint(await metricsText(), "slotline_rpc_endpoint_errors_total", `kind="${kind}"`).get(
        `1:127.0.0.1:${port}`,
      ) ?? 0;
    const answeredBlock = (from: number) => () =>
      Promise.resolve(
        spec.log!.entries.some(
          (e) => e.t >= from && e.method === "getBlock" && e.status === 200 && e.code === undefined,
        ),
      );
    /** The healthy endpoint's first call after `at` of the faulted call's method (and slot, for getBlock). */
    const servedAfter = (at: number, faulted: RequestLogEntry | undefined) =>
      healthyLog().find(
        (e) =>
          e.t >= at &&
          (faulted
            ? e.method === faulted.method &&
              (faulted.method !== "getBlock" || (e.params as [number])[0] === (faulted.params as [number])[0])
            : e.method === "getBlock"),
      );
    const moves: Record<string, number> = {};
    /** Waits for a call the fault failed (`faulted`), then for the healthy endpoint to serve it; records the delay. */
    async function meet(mode: Mode, startAt: number, faulted: () => RequestLogEntry | undefined) {
      let hit: RequestLogEntry | undefined;
      await waitFor(
        `a request failed by the ${mode} fault`,
        async () => (hit = faulted()) !== undefined,
        FAULT_S * 1000,
      );
      await waitFor(
        `the healthy endpoint serving after the ${mode} fault`,
        async () => !!servedAfter(hit!.t, hit),
        30_000,
      );
      moves[mode] = servedAfter(hit!.t, hit)!.t - Math.max(hit!.t, startAt);
    }
    try {
      await waitFor("both endpoints serving getBlock", answeredBlock(started), 30_000);

      // Killed: nothing listens on its port; then started again there, stalled.
      const killedAt = Date.now();
      const networkBefore = await faultyErrors("network");
      await faulty.close();
      await waitFor(
        "a request failed on the killed endpoint",
        async () => (await faultyErrors("network")) > networkBefore,
        FAULT_S * 1000,
      );
      await waitFor(
        "the healthy endpoint serving after the kill",
        async () => !!servedAfter(killedAt, undefined),
        30_000,
      );
      moves.killed = servedAfter(killedAt, undefined)!.t - killedAt;
      spec = parseFaults("");
      spec.log = { entries: [] };
      spec.rules.push({ method: "getBlock", action: { kind: "delay", ms: 60_000 } }, throttle);
      faulty = await createChain({ port, once: true, faults: spec, grpcPort: 0 });
      const stalledAt = Date.now();
      await meet("stalled", stalledAt, () => spec.log!.entries.find((e) => e.method === "getBlock"));
      const steps: { mode: Mode; rule: FaultRule; failed: (e: RequestLogEntry) => boolean }[] = [
        {
          mode: "429",
          rule: { method: "getBlock", action: { kind: "status", status: 429, retryAfter: 1 } },
          failed: (e) => e.status === 429,
        },
        {
          mode: "missing",
          rule: { method: "getBlock", action: { kind: "error", code: -32004, message: "Block not available" } },
          failed: (e) => e.code === -32004,
        },
      ];
      for (const step of steps) {
        // Healthy again until it has answered a getBlock: rested, probed, back in rotation.
        spec.rules = [throttle];
        const healedAt = Date.now();
        await waitFor("the faulty endpoint back in rotation", answeredBlock(healedAt), FAULT_S * 1000);
        const at = Date.now();
        spec.rules.unshift(step.rule);
        await meet(step.mode, at, () => {
          return spec.log!.entries.find((e) => e.t >= at && e.method === "getBlock" && step.failed(e));
        });
      }
      // The cycle is over: the rest of the history at full speed.
      spec.rules = [];
      healthySpec.rules.length = 0;
      const cycleS = (Date.now() - started) / 1000;

      await waitFor(
        "live ingest to reach the tip through the pool",
        () => caughtUp(live.url, healthy.slot("confirmed")),
        CATCH_UP_S * 1000,
      );
      const caughtUpS = (Date.now() - started) / 1000;
      const text = await metricsText();
      const errors = perEndpoint(text, "slotline_rpc_endpoint_errors_total");
      const secondOpinions = Number(
        text
          .split("\n")
          .find((l) => l.startsWith('slotline_rpc_second_opinions_total{outcome="found"}'))
          ?.split(" ")
          .at(-1) ?? 0,
      );
      console.log(
        `pool cycle: moved ${Object.entries(moves)
          .map(([m, ms]) => `${m} ${ms} ms`)
          .join(
            ", ",
          )}; cycle ${cycleS.toFixed(1)} s, caught up ${caughtUpS.toFixed(1)} s, ${secondOpinions} blocks found on the other endpoint, errors by endpoint ${[...errors].map(([k, v]) => `${k}=${v}`).join(" ")}`,
      );
      expect(Object.keys(moves).sort()).toEqual(["429", "killed", "missing", "stalled"]);
      for (const [mode, ms] of Object.entries(moves)) expect(ms, mode).toBeLessThan(MOVE_S * 1000);
      expect(cycleS).toBeLessThan(CYCLE_S);
      expect(caughtUpS).toBeLessThan(CATCH_UP_S);
      expect(secondOpinions).toBeGreaterThan(0);
      for (const kind of ["network", "timeout", "http_429"]) expect(await faultyErrors(kind), kind).toBeGreaterThan(0);
      await expectReference(live.url);
    } finally {
      healthySpec.rules.length = 0;
      await proc.kill("SIGTERM");
      await faulty.close().catch(() => {});
      await live.drop();
    }
  }, 200_000);
});
