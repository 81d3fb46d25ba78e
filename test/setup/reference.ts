/**
 * The oracle of the fault tests: a database written by the plain pipeline (fetch -> decode -> store) with no faults.
 */
import { createDb } from "../../core/db.js";
import { RetryableError } from "../../core/errors.js";
import { createDecoder } from "../../indexer/decode/index.js";
import { createLogger } from "../../core/logger.js";
import { PRESET_NAMES } from "../../core/presets.js";
import { createTokenEnricher } from "../../indexer/pipeline/token-enricher.js";
import { fetchBlocks } from "../../indexer/source/blocks.js";
import { createRpcClient } from "../../indexer/source/rpc.js";
import { createStore } from "../../indexer/store/index.js";
import { parseConfig } from "../../core/config.js";
import { createPricer } from "../../indexer/pricing/index.js";

/** Runs the pricing stage of `dbUrl` up to `upTo` (default configuration), as the ingest process would. */
export async function priceReference(dbUrl: string, upTo: number): Promise<void> {
  const db = createDb(dbUrl, { max: 1 });
  try {
    await createPricer({ db, config: parseConfig({}) }).catchUp({ upTo });
  } finally {
    await db.$client.end();
  }
}

/** Writes the blocks of `slots` (fetched at `commitment`) into `dbUrl` exactly as a fault-free worker would. */
export async function writeReference(
  rpcUrl: string,
  dbUrl: string,
  slots: number[],
  commitment: "confirmed" | "finalized",
): Promise<void> {
  const db = createDb(dbUrl, { max: 2 });
  try {
    const rpc = createRpcClient({
      url: rpcUrl,
      maxRps: 100_000,
      concurrency: 4,
      batchSize: 20,
      timeoutMs: 30_000,
      maxAttempts: 30,
    });
    const decoder = createDecoder({ programs: PRESET_NAMES });
    const store = createStore({ db });
    const enricher = createTokenEnricher({
      db,
      store,
      rpc,
      logger: createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" }),
    });
    for (let i = 0; i < slots.length; i += 20) {
      // Blocks not available yet (-32004) are retried, as the queue retries a worker's job.
      let fetched;
      for (let attempt = 0; ; attempt++) {
        try {
          fetched = await fetchBlocks(rpc, slots.slice(i, i + 20), commitment);
          break;
        } catch (err) {
          if (!(err instanceof RetryableError) || attempt > 50) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const decoded = fetched.blocks.map(({ slot, block }) => decoder.decodeBlock(block, slot));
      await store.writeBlocks(decoded, { commitment });
      await enricher.enrich(decoded);
    }
  } finally {
    await db.$client.end();
  }
}
