import { Connection, type VersionedTransactionResponse } from "@solana/web3.js";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { createDecoder } from "../../indexer/decode/index.js";
import { PRESET_NAMES, VOTE_PROGRAM_ID, resolvePrograms } from "../../indexer/programs.js";
import { fetchBlocks } from "../../indexer/source/blocks.js";
import { createRpcClient } from "../../indexer/source/rpc.js";
import { type Chain, createChain } from "../chain/index.js";
import { caughtUp, ingestEnv, query } from "../setup/ingest-env.js";
import { spawnSlotline, waitFor } from "../setup/processes.js";
import { createTestDatabase, uniquePrefix } from "../setup/services.js";

const TRACKED = new Set(resolvePrograms(PRESET_NAMES));

/** Every program id a transaction invokes, top level or inner, from its own message and meta. */
function invokedPrograms(tx: VersionedTransactionResponse): string[] {
  // Static keys, then the lookup tables' writable and readonly keys, as the runtime orders them.
  const loaded = tx.meta?.loadedAddresses;
  const keys = [...tx.transaction.message.staticAccountKeys, ...(loaded?.writable ?? []), ...(loaded?.readonly ?? [])].map((k) => k.toBase58());
  const top = tx.transaction.message.compiledInstructions.map((ix) => keys[ix.programIdIndex]!);
  const inner = (tx.meta?.innerInstructions ?? []).flatMap((g) => g.instructions.map((ix) => keys[ix.programIdIndex]!));
  return [...new Set([...top, ...inner])];
}

describe("live ingest over the recorded history (local chain, real processes)", () => {
  let chain: Chain;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const prefix = uniquePrefix();
  let expected: Set<string>;
  let votes: Set<string>;

  beforeAll(async () => {
    chain = await createChain({ port: 0, once: true });
    db = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    // The oracle: read every recorded transaction back through web3.js and keep those that invoke a tracked program.
    const conn = new Connection(chain.rpcUrl, "confirmed");
    expected = new Set();
    votes = new Set();
    const sigs = chain.history.signatures;
    for (let i = 0; i < sigs.length; i += 100) {
      const txs = await conn.getTransactions(sigs.slice(i, i + 100), { maxSupportedTransactionVersion: 0, commitment: "confirmed" });
      for (const tx of txs) {
        if (!tx) continue;
        const programs = invokedPrograms(tx);
        if (programs.some((p) => TRACKED.has(p))) expected.add(tx.transaction.signatures[0]!);
        if (programs.includes(VOTE_PROGRAM_ID)) votes.add(tx.transaction.signatures[0]!);
      }
    }
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
      const indexed = new Set((await query<{ slot: string }>(db.url, "select slot::text from slots where status = 'indexed'")).map((r) => Number(r.slot)));
      expect(produced.filter((s) => !indexed.has(s))).toEqual([]);
      // Every row the decoder finds in those blocks arrived: the pipeline loses nothing between decode and store.
      const rpc = createRpcClient({ url: chain.rpcUrl, maxRps: 10_000, concurrency: 4, batchSize: 20, timeoutMs: 30_000 });
      const decoder = createDecoder({ programs: PRESET_NAMES });
      const fetched = await fetchBlocks(rpc, produced, "confirmed");
      const decoded = fetched.blocks.map(({ slot, block }) => decoder.decodeBlock(block, slot)).flatMap((b) => b.transactions);
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
