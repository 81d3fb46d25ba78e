/**
 * How many transactions per second the local chain (devchain/) serves through getBlock, measured
 * over real HTTP from this process while the chain runs in its own process (as it does beside
 * slotline). It must stay well above slotline's live-ingest target (10,000 tx/s) so it is never
 * the bottleneck of slotline's own benchmarks.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { Agent, request } from "node:http";
import { createInterface } from "node:readline";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchEntry, BenchSuite } from "../harness.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** `node --import tsx`, not the tsx CLI, so a kill reaches the chain itself. */
const TSX = ["--import", "tsx"];
const WHOLE_BLOCKS = path.resolve(ROOT, "../shared/fixtures/blocks/getBlock-json-mainnet-converted");
const CONCURRENCY = 4;
const agent = new Agent({ keepAlive: true, maxSockets: 16 });
const MARK = Buffer.from('"recentBlockhash"');

/**
 * POSTs one JSON-RPC request over a keep-alive connection and streams the body, counting
 * transactions (one "recentBlockhash" per transaction) without buffering or parsing it.
 */
function postCounting(url: string, body: string): Promise<{ status: number; bytes: number; txs: number }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        let bytes = 0;
        let txs = 0;
        let carry: Buffer = Buffer.alloc(0);
        res.on("data", (chunk: Buffer) => {
          bytes += chunk.length;
          const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
          for (let i = buf.indexOf(MARK); i >= 0; i = buf.indexOf(MARK, i + MARK.length)) txs++;
          carry = buf.subarray(Math.max(0, buf.length - MARK.length + 1));
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, bytes, txs }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
const MEASURE_MS = 3000;

/** Starts `npm run chain` equivalent in a child process and resolves its RPC URL. */
async function startChain(args: string[]): Promise<{ child: ChildProcess; rpcUrl: string }> {
  const child = spawn(process.execPath, [...TSX, "devchain/main.ts", "--port", "0", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const lines = createInterface({ input: child.stdout! });
  const rpcUrl = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`chain exited with ${code}: ${stderr}`)));
    lines.on("line", (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; rpcUrl?: string };
        if (msg.event === "listening" && msg.rpcUrl) resolve(msg.rpcUrl);
      } catch {
        // not our line
      }
    });
  });
  return { child, rpcUrl };
}

async function rpc(url: string, method: string, params: unknown[]): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: "1", method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(body.error.message);
  return body.result;
}

const GET_BLOCK_CFG = {
  encoding: "json",
  maxSupportedTransactionVersion: 0,
  transactionDetails: "full",
  rewards: false,
  commitment: "confirmed",
};

/** getBlock over the two whole recorded mainnet blocks (served from the encoded-block cache). */
function recordedEntry(): BenchEntry {
  let chain: { child: ChildProcess; rpcUrl: string };
  const blocks: { slot: number; txs: number }[] = [];
  let bytes = 0;
  return {
    name: "chain-getblock-recorded",
    description: `getBlock (json, full, v0) of the two whole mainnet blocks, ${CONCURRENCY} concurrent keep-alive HTTP clients streaming whole bodies, ${MEASURE_MS} ms per run`,
    unit: "tx/s",
    higherIsBetter: true,
    async setup() {
      chain = await startChain(["--once", "--fixtures", WHOLE_BLOCKS]);
      for (const slot of (await rpc(chain.rpcUrl, "getBlocks", [0])) as number[]) {
        const sigs = (await rpc(chain.rpcUrl, "getBlock", [
          slot,
          { ...GET_BLOCK_CFG, transactionDetails: "signatures" },
        ])) as { signatures: string[] };
        blocks.push({ slot, txs: sigs.signatures.length });
      }
    },
    async measure() {
      let txs = 0;
      const t0 = performance.now();
      const end = t0 + MEASURE_MS;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async (_, lane) => {
          for (let i = lane; performance.now() < end; i++) {
            const b = blocks[i % blocks.length]!;
            const res = await postCounting(
              chain.rpcUrl,
              JSON.stringify({ jsonrpc: "2.0", id: String(i), method: "getBlock", params: [b.slot, GET_BLOCK_CFG] }),
            );
            if (res.status !== 200 || res.txs !== b.txs)
              throw new Error(`getBlock ${b.slot}: HTTP ${res.status}, ${res.txs} of ${b.txs} transactions`);
            bytes += res.bytes;
            txs += b.txs;
          }
        }),
      );
      return txs / ((performance.now() - t0) / 1000);
    },
    async details() {
      return { blocks: blocks.map((b) => `${b.slot}:${b.txs}`).join(" "), mb_read: Math.round(bytes / 1e6) };
    },
    async teardown() {
      chain?.child.kill("SIGTERM");
    },
  };
}

/** Fresh synthetic blocks (encoded on first request) fetched once each as they are confirmed. */
function liveEntry(tps: number): BenchEntry {
  let chain: { child: ChildProcess; rpcUrl: string };
  return {
    name: "chain-getblock-live",
    description: `new blocks carrying --synthetic-tps ${tps} (400 ms slots), each fetched once with getBlock as soon as it is confirmed, ${MEASURE_MS} ms per run`,
    unit: "tx/s",
    higherIsBetter: true,
    async setup() {
      chain = await startChain([
        "--fixtures",
        WHOLE_BLOCKS,
        "--synthetic-tps",
        String(tps),
        "--slot-ms",
        "400",
        "--finality-lag",
        "32",
      ]);
    },
    async measure() {
      let next = ((await rpc(chain.rpcUrl, "getSlot", [{ commitment: "confirmed" }])) as number) + 1;
      let txs = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < MEASURE_MS) {
        const top = (await rpc(chain.rpcUrl, "getSlot", [{ commitment: "confirmed" }])) as number;
        if (top < next) {
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        const slots = [];
        for (; next <= top; next++) slots.push(next);
        await Promise.all(
          slots.map(async (slot) => {
            const res = await postCounting(
              chain.rpcUrl,
              JSON.stringify({ jsonrpc: "2.0", id: String(slot), method: "getBlock", params: [slot, GET_BLOCK_CFG] }),
            );
            if (res.status !== 200) throw new Error(`getBlock ${slot}: HTTP ${res.status}`);
            const n = res.txs;
            txs += n;
          }),
        );
      }
      return txs / ((performance.now() - t0) / 1000);
    },
    async teardown() {
      chain?.child.kill("SIGTERM");
    },
  };
}

/** The chain's serving throughput. */
const suite: BenchSuite = {
  name: "chain",
  entries: () => [recordedEntry(), liveEntry(40_000)],
};
export default suite;
