import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { createDecoder } from "../../indexer/decode/index.js";
import { PRESET_NAMES } from "../../core/presets.js";
import { trackedHistory } from "../setup/oracle.js";
import { fetchBlocks } from "../../indexer/source/blocks.js";
import { createRpcClient } from "../../indexer/source/rpc.js";
import { type Chain, createChain } from "../../devchain/index.js";
import { caughtUp, ingestEnv, query } from "../setup/ingest-env.js";
import { spawnSlotline, waitFor } from "../setup/processes.js";
import { createTestDatabase, uniquePrefix } from "../setup/services.js";

describe("live ingest over the recorded history (local chain, real processes)", () => {
  let chain: Chain;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const prefix = uniquePrefix();
  let expected: Set<string>;
  let votes: Set<string>;

  beforeAll(async () => {
    chain = await createChain({ port: 0, once: true });
    db = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    // The oracle: every recorded transaction read back through web3.js, kept if it invokes a tracked program.
    ({ tracked: expected, votes } = await trackedHistory(chain));
  }, 120_000);
  afterAll(async () => {
    await chain?.close();
    await db?.drop();
  });

  test("stores every recorded transaction that invokes a tracked program exactly once, and no votes", async () => {
    expect(expected.size).toBeGreaterThan(500);
    const proc = spawnSlotline(["start"], ingestEnv(chain, db.url, inject("redisUrl"), prefix));
    try {
      await waitFor("ingest to reach the chain tip", () => caughtUp(db.url, chain.slot("confirmed")), 90_000);
      const rows = await query<{ signature: string }>(db.url, "select signature from transactions");
      const stored = new Set(rows.map((r) => r.signature));
      expect(rows.length).toBe(stored.size);
      expect([...expected].filter((s) => !stored.has(s))).toEqual([]);
      expect([...stored].filter((s) => !expected.has(s))).toEqual([]);
      expect([...votes].filter((s) => stored.has(s) && !expected.has(s))).toEqual([]);
      // Every produced slot at or below the resume point is stored.
      const produced = chain.history.slots;
      const indexed = new Set(
        (await query<{ slot: string }>(db.url, "select slot::text from slots where status = 'indexed'")).map((r) =>
          Number(r.slot),
        ),
      );
      expect(produced.filter((s) => !indexed.has(s))).toEqual([]);
      // Every row the decoder finds in those blocks arrived: the pipeline loses nothing between decode and store.
      const rpc = createRpcClient({
        url: chain.rpcUrl,
        maxRps: 10_000,
        concurrency: 4,
        batchSize: 20,
        timeoutMs: 30_000,
      });
      const decoder = createDecoder({ programs: PRESET_NAMES });
      const fetched = await fetchBlocks(rpc, produced, "confirmed");
      const decoded = fetched.blocks
        .map(({ slot, block }) => decoder.decodeBlock(block, slot))
        .flatMap((b) => b.transactions);
      const [counts] = await query<{ swaps: number; transfers: number; pools: number; liquidity: number }>(
        db.url,
        `select (select count(*)::int from swaps) swaps, (select count(*)::int from token_transfers) transfers,
                (select count(*)::int from pools) pools, (select count(*)::int from liquidity_events) liquidity`,
      );
      expect(counts!.swaps).toBe(decoded.flatMap((t) => t.swaps).length);
      expect(counts!.transfers).toBe(decoded.flatMap((t) => t.transfers).length);
      expect(counts!.liquidity).toBe(decoded.flatMap((t) => t.liquidityEvents).length);
      expect(counts!.pools).toBe(new Set(decoded.flatMap((t) => t.pools.map((p) => p.address))).size);
      expect(counts!.swaps).toBeGreaterThan(100);
    } finally {
      // Graceful shutdown: SIGTERM exits 0 within a bounded time.
      const t0 = Date.now();
      const code = await proc.kill("SIGTERM");
      expect(code, proc.output().slice(-3000)).toBe(0);
      expect(Date.now() - t0).toBeLessThan(15_000);
    }
  }, 120_000);
});
