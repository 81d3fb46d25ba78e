/**
 * gRPC mode under stream faults: resets, duplicate block updates, stalls, a server restart and a gap larger than the
 * server's replay window. Each run ends with every table equal to the fault-free reference over the same slots, no
 * produced slot missing at or below the resume point (the convergence oracle), and the stream doing the work:
 * most blocks reach the workers through it, not through getBlock.
 */
import { Redis } from "ioredis";
import { afterEach, describe, expect, inject, test } from "vitest";
import type { RequestLogEntry } from "../../../devchain/faults.js";
import { caughtUp } from "../../setup/ingest-env.js";
import { waitFor } from "../../setup/processes.js";
import { expectConverged, health, metric, produce, type RpcRun, setUpRpcRun, startSlotline } from "./rpc-harness.js";

let run: RpcRun | undefined;
afterEach(async () => {
  await run?.cleanup();
  run = undefined;
});

/** gRPC mode env for a run on the chain's Geyser server. */
const grpcEnv = (extra: Record<string, string> = {}) => ({
  INGEST_MODE: "grpc",
  GRPC_STALL_MS: "3000",
  LOG_LEVEL: "warn",
  ...extra,
});

/** Full getBlock calls (a worker fetching a block over RPC) for slots in `slots`, before the faults were turned off. */
const rpcFetches = (log: RequestLogEntry[], slots: Set<number>, before = Infinity) =>
  log.filter(
    (e) =>
      e.t < before &&
      e.method === "getBlock" &&
      (e.params as [number, { transactionDetails?: string }])[1]?.transactionDetails === "full" &&
      slots.has((e.params as [number])[0]),
  );

/** The ingest's stream figures from /health. */
async function streamStats(r: RpcRun): Promise<Record<string, number>> {
  const { body } = await health(r);
  return ((body.ingest as { stream?: Record<string, number> } | undefined)?.stream ?? {}) as Record<string, number>;
}

/** A run in gRPC mode on its chain's Geyser server. */
async function setUpGrpcRun(opts: Parameters<typeof setUpRpcRun>[0] & { extra: Record<string, string> }) {
  const r = await setUpRpcRun(opts);
  r.env.SOLANA_GRPC_URL = r.chain.grpcUrl;
  return r;
}

async function startAndSubscribe(r: RpcRun) {
  startSlotline(r);
  await waitFor("the gRPC subscription", async () => r.chain.grpcSubscribers() > 0, 30_000);
}

describe("gRPC stream faults", () => {
  test("resets every 2 s and every other block update sent twice: nothing lost, nothing doubled", async () => {
    run = await setUpGrpcRun({ faults: "grpcDropEvery=2s,dupBlocks=0.5,seed=3", extra: grpcEnv() });
    await startAndSubscribe(run);
    const produced = await produce(run.chain, 40, 150);
    await waitFor("ingest to reach the tip", () => caughtUp(run!.db.url, run!.chain.slot("confirmed")), 60_000);
    const stream = await streamStats(run);
    const { indexed } = await expectConverged(run, 90_000);
    const stats = run.chain.stats();
    const fetched = rpcFetches(run.log, new Set(produced), run.faultsOffAt);
    console.info(
      `grpc reset/dup: ${indexed.length} slots, ${stats.grpc_resets} resets, ${stats.dupBlocks} duplicate updates, ${stream.reconnects} reconnects, ${stream.held} streamed, ${fetched.length} getBlock`,
    );
    expect(stats.grpc_resets).toBeGreaterThan(2);
    expect(stats.dupBlocks).toBeGreaterThan(5);
    expect(stream.reconnects).toBeGreaterThan(2);
    // from_slot resumed each call after the last block it delivered: the stream carried blocks across the resets.
    expect(stream.held).toBeGreaterThan(produced.length / 4);
  }, 150_000);

  test("stalls (an open call with no update, pings included): reconnected on silence, nothing lost", async () => {
    run = await setUpGrpcRun({ faults: "grpcStall=4s,grpcStallEvery=8s", extra: grpcEnv() });
    await startAndSubscribe(run);
    await produce(run.chain, 50, 200);
    const silences = await metric(run, 'slotline_ws_reconnects_total{reason="grpc_silence"}');
    const { indexed } = await expectConverged(run, 90_000);
    console.info(`grpc stall: ${indexed.length} slots, ${silences} reconnects on silence`);
    expect(run.chain.stats().grpc_stalledUpdates).toBeGreaterThan(0);
    expect(silences).toBeGreaterThan(0);
  }, 150_000);

  test("server restart (3 s down): the stream reconnects and resumes, the slots of the outage come over RPC, nothing lost", async () => {
    run = await setUpGrpcRun({ extra: grpcEnv() });
    await startAndSubscribe(run);
    const before = await produce(run.chain, 10, 150);
    const restart = run.chain.restartGrpc(3_000);
    const during = await produce(run.chain, 10, 150);
    await restart;
    await waitFor("the gRPC subscription again", async () => run!.chain.grpcSubscribers() > 0, 30_000);
    const after = await produce(run.chain, 10, 150);
    const stream = await streamStats(run);
    const { indexed } = await expectConverged(run, 90_000);
    const fetched = rpcFetches(run.log, new Set([...before, ...during, ...after]), run.faultsOffAt);
    console.info(
      `grpc restart: ${indexed.length} slots, ${stream.reconnects} reconnects, ${stream.held} streamed, ${fetched.length} getBlock`,
    );
    expect(run.chain.stats().grpc_restarts).toBe(1);
    expect(stream.reconnects).toBeGreaterThan(0);
    expect(stream.refused).toBe(0);
  }, 150_000);

  test("a gap larger than the replay window: refused from_slot, the gap filled over RPC, live resumed", async () => {
    run = await setUpGrpcRun({ grpcReplaySlots: 4, extra: grpcEnv() });
    await startAndSubscribe(run);
    await produce(run.chain, 8, 150);
    const restart = run.chain.restartGrpc(6_000);
    const gap = await produce(run.chain, 20, 200);
    await restart;
    await waitFor("the gRPC subscription again", async () => run!.chain.grpcSubscribers() > 0, 30_000);
    const after = await produce(run.chain, 12, 150);
    const stream = await streamStats(run);
    const { indexed } = await expectConverged(run, 90_000);
    const fetchedGap = rpcFetches(run.log, new Set(gap), run.faultsOffAt);
    console.info(
      `grpc replay window: ${indexed.length} slots, ${run.chain.stats().grpc_replayRefused} refused, ${fetchedGap.length} gap slots over RPC, ${stream.held} streamed`,
    );
    expect(run.chain.stats().grpc_replayRefused).toBeGreaterThan(0);
    expect(stream.refused).toBeGreaterThan(0);
    // The gap came over RPC; the stream took over again after it.
    expect(fetchedGap.length).toBeGreaterThan(gap.length / 2);
    expect(indexed.filter((s) => after.includes(s)).length).toBeGreaterThan(after.length / 2);
  }, 150_000);
});

describe("gRPC backpressure", () => {
  test("with no worker the stream is read no faster than the queue drains: memory bounded, then everything stored", async () => {
    const MAX_QUEUED = 10;
    run = await setUpGrpcRun({ syntheticTps: 400, extra: grpcEnv({ MAX_QUEUED_JOBS: String(MAX_QUEUED) }) });
    const redis = new Redis(inject("redisUrl"), { maxRetriesPerRequest: null });
    try {
      // Ingest only: nothing drains the queue.
      const { spawnSlotline } = await import("../../setup/processes.js");
      const ingest = spawnSlotline(["ingest"], { ...run.env, API_PORT: String(run.apiPort) });
      run.proc = ingest;
      await waitFor("the gRPC subscription", async () => run!.chain.grpcSubscribers() > 0, 30_000);
      const produced = await produce(run.chain, 40, 50);
      await new Promise((r) => setTimeout(r, 3_000));
      const stream = await streamStats(run);
      const held = (await redis.keys(`${run.env.QUEUE_PREFIX}:streamed:*`)).length;
      const serverHeld = run.chain.stats().grpc_maxQueued;
      const written = run.chain.stats().grpc_blocks;
      console.info(
        `grpc backpressure: ${produced.length} slots produced, ${written} block updates written by the server, ${stream.blocks} taken, ${held} blocks held in Redis, ${stream.maxBuffered} updates buffered in the process at most, ${serverHeld} updates the server had to hold`,
      );
      // The bound: at most MAX_QUEUED blocks held in Redis, at most one update in the process's hands.
      expect(held).toBeLessThanOrEqual(MAX_QUEUED);
      expect(stream.maxBuffered).toBeLessThanOrEqual(1);
      expect(stream.blocks).toBeLessThanOrEqual(MAX_QUEUED + 1);
      // The rest waited on the server side, or in flow-control windows: the call was not read. Which of the two holds
      // them depends on their size against the windows (the server writes an update's bytes as soon as the call
      // takes them), so the two are counted together.
      expect((serverHeld ?? 0) + (written ?? 0) - (stream.blocks ?? 0)).toBeGreaterThan(0);
      expect(written).toBeLessThan(produced.length);
      // SIGTERM while the stream is held: the ingest exits at once, cleanly.
      const t0 = Date.now();
      expect(await ingest.kill("SIGTERM"), ingest.output().slice(-2000)).toBe(0);
      expect(Date.now() - t0).toBeLessThan(15_000);
      // Ingest and a worker: the stream resumes from the resume point and every slot is stored.
      startSlotline(run);
      await expectConverged(run, 120_000);
    } finally {
      await redis.quit();
    }
  }, 200_000);
});
