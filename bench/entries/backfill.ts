/**
 * Backfill throughput: a slot-range backfill over a synthetic history of at least 200,000 transactions (cloned
 * mainnet blocks, votes included) on the local chain, done by one worker process and by two; each against the bare
 * store loop (the ingest suite's reference: the same kind of decoded rows written by 2 writers) in the same run.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { type Chain, createChain } from "../../devchain/index.js";
import type { BenchEntry, BenchSuite } from "../harness.js";
import { BENCH_REDIS_URL, freshDatabase } from "../services.js";
import { rawLimitReference } from "./ingest.js";

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../cli/bin/slotline.mjs");
const TPS = 20_000;
/** 25 slots x 8,000 transactions = 200,000 transactions in the history. */
const SLOTS = 25;

function run(args: string[], env: Record<string, string>): { done: Promise<number>; kill(): void } {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", LOG_LEVEL: "error", METRICS_PORT: "0", ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  return { done: new Promise((r) => child.on("exit", (c) => r(c ?? -1))), kill: () => child.kill("SIGTERM") };
}

function entry(
  workers: number,
  history: () => Promise<{ chain: Chain; from: number; to: number; total: number }>,
  reference: BenchEntry["reference"],
): BenchEntry {
  const stored: number[] = [];
  const historyRates: number[] = [];
  return {
    name: `backfill-slot-range-${workers}-worker${workers > 1 ? "s" : ""}`,
    description: `backfill of ${SLOTS} slots (${(TPS * 0.4 * SLOTS).toLocaleString("en-US")} transactions, cloned mainnet) through the queue, ${workers} worker process(es); tracked transactions stored per second (the history's rate, votes and untracked ones read and passed over, in details), against the bare store loop in the same run`,
    unit: "tx/s",
    higherIsBetter: true,
    async measure() {
      const { chain, from, to } = await history();
      const db = await freshDatabase("slotline_bench_backfill");
      const env = {
        DATABASE_URL: db.url,
        REDIS_URL: BENCH_REDIS_URL,
        QUEUE_PREFIX: `bench-bf-${Date.now()}`,
        SOLANA_RPC_URL: chain.rpcUrl,
        SOLANA_WS_URL: chain.wsUrl,
        RPC_MAX_RPS: "100000",
        WORKER_CONCURRENCY: "4",
      };
      const ws = Array.from({ length: workers }, () => run(["worker"], env));
      await new Promise((r) => setTimeout(r, 2_500)); // workers up before the clock starts
      const t0 = performance.now();
      const code = await run(
        ["backfill", "--from-slot", String(from), "--to-slot", String(to), "--batch-size", "1"],
        env,
      ).done;
      const secs = (performance.now() - t0) / 1000;
      for (const w of ws) w.kill();
      await Promise.all(ws.map((w) => w.done));
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      const n = Number((await c.query<{ n: string }>("select count(*)::text as n from transactions")).rows[0]!.n);
      await c.end();
      await db.drop();
      if (code !== 0) throw new Error(`backfill exited ${code}`);
      stored.push(n);
      historyRates.push((TPS * 0.4 * SLOTS) / secs);
      // Transactions stored per second: the bare store loop's figure (the history's own rate is in details).
      return n / secs;
    },
    reference,
    details: async () => ({
      tracked_transactions_stored: stored[stored.length - 1] ?? 0,
      // transactions of the history per second, votes and untracked ones included (read and passed over)
      history_tx_per_s_median: Math.round([...historyRates].sort((a, b) => a - b)[historyRates.length >> 1] ?? 0),
    }),
  };
}

const suite: BenchSuite = {
  name: "backfill",
  entries() {
    let made: { chain: Chain; from: number; to: number; total: number } | undefined;
    const history = async () => {
      if (!made) {
        const chain = await createChain({
          port: 0,
          syntheticTps: TPS,
          slotMs: 400,
          autoProduce: false,
          finalityLag: 1,
        });
        const from = chain.slot("processed") + 1;
        for (let i = 0; i < SLOTS + 3; i++) chain.tick();
        made = { chain, from, to: from + SLOTS - 1, total: TPS * 0.4 * SLOTS };
      }
      return made;
    };
    // one reference for both: it decodes its blocks once
    const bare = rawLimitReference([]);
    const one = entry(1, history, bare);
    const two = entry(2, history, bare);
    two.teardown = async () => made?.chain.close();
    return [one, two];
  },
};

export default suite;
