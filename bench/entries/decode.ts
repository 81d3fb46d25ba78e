/**
 * Decode-only throughput on the two whole mainnet blocks (3,307 transactions, votes included): blocks are
 * parsed once in setup, then decoded again and again on this one core with every preset tracked.
 * The details give what the decoder found in them, per program.
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createDecoder } from "../../indexer/decode/index.js";
import { PRESET_NAMES } from "../../core/presets.js";
import type { RawBlock } from "../../core/solana-types.js";
import type { BenchSuite } from "../harness.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const WHOLE_BLOCKS = path.resolve(ROOT, "../shared/fixtures/blocks/getBlock-json-mainnet-converted");
const MEASURE_MS = 2000;

const suite: BenchSuite = {
  name: "decode",
  entries() {
    let blocks: { slot: number; block: RawBlock }[] = [];
    const decoder = createDecoder({ programs: [...PRESET_NAMES] });
    return [
      {
        name: "decode-whole-blocks",
        description: "decodeBlock over the two whole mainnet blocks, all presets, one core (tx/s, votes included)",
        unit: "tx/s",
        higherIsBetter: true,
        runs: 5,
        async setup() {
          blocks = readdirSync(WHOLE_BLOCKS)
            .filter((n) => n.endsWith(".json"))
            .map((n) => {
              const json = JSON.parse(readFileSync(path.join(WHOLE_BLOCKS, n), "utf8")) as { result: RawBlock };
              return { slot: Number(/(\d+)/.exec(n)![1]), block: json.result };
            });
        },
        async measure() {
          let txs = 0;
          const start = performance.now();
          while (performance.now() - start < MEASURE_MS) {
            for (const { slot, block } of blocks) txs += decoder.decodeBlock(block, slot).txCount;
          }
          return txs / ((performance.now() - start) / 1000);
        },
        async details() {
          const counts: Record<string, number> = {};
          const bump = (k: string, n = 1) => (counts[k] = (counts[k] ?? 0) + n);
          for (const { slot, block } of blocks) {
            const d = decoder.decodeBlock(block, slot);
            bump("transactions", d.txCount);
            bump("decoded transactions", d.transactions.length);
            for (const t of d.transactions) {
              const programOf = new Map(t.tokens.map((x) => [x.mint, x.program]));
              for (const s of t.swaps) bump(`swaps ${s.dex}`);
              for (const p of t.pools) bump(`pools ${p.dex}`);
              for (const l of t.liquidityEvents) bump(`liquidity ${l.kind}`);
              for (const x of t.transfers) bump(`transfers ${programOf.get(x.mint) ?? "spl-token"} ${x.kind}`);
              bump("warnings", t.warnings.length);
            }
          }
          return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
        },
      },
    ];
  },
};

export default suite;
