/**
 * Token lookups after a fork's rollback: a mint the enricher filled in, whose row a rollback deleted and re-indexing
 * stored again without supply, is looked up again by the sweep (it once stayed empty for good: the enricher's
 * memory said it was done).
 */
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { createDb, type Db } from "../../../core/db.js";
import { createDecoder } from "../../../indexer/decode/index.js";
import { createLogger } from "../../../core/logger.js";
import { parseConfig } from "../../../core/config.js";
import { PRESET_NAMES } from "../../../core/presets.js";
import { createTokenEnricher } from "../../../indexer/pipeline/token-enricher.js";
import { fetchBlocks } from "../../../indexer/source/blocks.js";
import { createRpcClient } from "../../../indexer/source/rpc.js";
import { createStore } from "../../../indexer/store/index.js";
import { type Chain, createChain } from "../../../devchain/index.js";
import { createTestDatabase } from "../../setup/services.js";

describe("token enricher", () => {
  let chain: Chain;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Db;

  beforeAll(async () => {
    chain = await createChain({ port: 0, once: true });
    database = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    db = createDb(database.url, { max: 4 });
  });
  afterAll(async () => {
    await db.$client.end();
    await database.drop();
    await chain.close();
  });

  test("a mint filled in, then stored again without supply (rollback and re-index), is filled in again by the sweep", async () => {
    const config = parseConfig({ DATABASE_URL: database.url, SOLANA_RPC_URL: chain.rpcUrl, LOG_LEVEL: "silent" });
    const rpc = createRpcClient({ url: chain.rpcUrl, maxRps: 1000, concurrency: 4, batchSize: 10, timeoutMs: 10_000 });
    const decoder = createDecoder({ programs: PRESET_NAMES });
    const fetched = await fetchBlocks(rpc, chain.history.slots.slice(0, 12), "confirmed");
    const blocks = fetched.blocks.map(({ slot, block }) => decoder.decodeBlock(block, slot));
    await createStore({ db }).writeBlocks(blocks, { commitment: "confirmed" });
    const enricher = createTokenEnricher({ db, rpc, logger: createLogger(config), store: createStore({ db }) });
    expect(await enricher.enrich(blocks)).toBeGreaterThan(0);
    const filled = await db.$client.query<{ mint: string; supply: string }>(
      "select mint, supply::text from tokens where supply is not null order by mint limit 1",
    );
    const { mint, supply } = filled.rows[0]!;

    // What a rollback followed by re-indexing leaves: the row again, without what the lookup filled in.
    await db.$client.query("update tokens set supply = null where mint = $1", [mint]);
    await enricher.enrich(blocks);
    await enricher.sweep();
    const after = await db.$client.query<{ supply: string | null }>("select supply::text from tokens where mint = $1", [
      mint,
    ]);
    expect(after.rows[0]!.supply).toBe(supply);
  });
});
