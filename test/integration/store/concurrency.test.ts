import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { createDb, type Db } from "../../../core/db.js";
import { createDecoder, type DecodedBlock } from "../../../indexer/decode/index.js";
import { PRESET_NAMES, resolvePrograms } from "../../../core/presets.js";
import { fetchBlocks } from "../../../indexer/source/blocks.js";
import { createRpcClient } from "../../../indexer/source/rpc.js";
import { createStore } from "../../../indexer/store/index.js";
import { createChain } from "../../../devchain/index.js";
import { diffTable, digestTables } from "../../setup/digest.js";
import { createTestDatabase } from "../../setup/services.js";

// Workers store batches concurrently, and every batch of mainnet DEX traffic touches the same hot mints and pools
// (wSOL, USDC, the big pools), some with authority changes. Found by the ingest bench: two workers deadlocked on
// `tokens` (an UPDATE locked rows in join order before the sorted upsert) until nothing was stored at all.
const LANES = 12;
const SLOTS = 36;

describe("store: concurrent batches sharing tokens and pools", () => {
  let blocks: DecodedBlock[];
  /** Recorded blocks that set a mint's authorities (the chain replays no initialisation): every lane stores them. */
  let authorityBlocks: DecodedBlock[];
  const dbs: { url: string; drop(): Promise<void> }[] = [];
  const handles: Db[] = [];

  beforeAll(async () => {
    // Cloned mainnet transactions that invoke a tracked program, so every block is full of shared rows.
    const chain = await createChain({
      port: 0,
      syntheticTps: 1_500,
      slotMs: 400,
      autoProduce: false,
      syntheticPrograms: resolvePrograms(PRESET_NAMES),
    });
    try {
      const slots = Array.from({ length: SLOTS + 3 }, () => chain.tick()).slice(0, SLOTS);
      const rpc = createRpcClient({
        url: chain.rpcUrl,
        maxRps: 100_000,
        concurrency: 4,
        batchSize: 4,
        timeoutMs: 60_000,
      });
      const decoder = createDecoder({ programs: PRESET_NAMES });
      const fetched = await fetchBlocks(rpc, slots, "confirmed");
      blocks = fetched.blocks.map(({ slot, block }) => decoder.decodeBlock(block, slot));
      const history = await fetchBlocks(rpc, chain.history.slots, "confirmed");
      authorityBlocks = history.blocks
        .map(({ slot, block }) => decoder.decodeBlock(block, slot))
        .filter((b) =>
          b.transactions.some((t) =>
            t.tokens.some((k) => k.mintAuthority !== undefined || k.freezeAuthority !== undefined),
          ),
        );
    } finally {
      await chain.close();
    }
  }, 120_000);

  afterAll(async () => {
    for (const h of handles) await h.$client.end();
    for (const d of dbs) await d.drop();
  });

  async function freshStore(max: number) {
    const d = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    dbs.push(d);
    const handle = createDb(d.url, { max });
    handles.push(handle);
    return { url: d.url, store: createStore({ db: handle }) };
  }

  test("many writers at once: no deadlock, and the same database as one writer", async () => {
    const tokens = new Set(blocks.flatMap((b) => b.transactions.flatMap((t) => t.tokens.map((k) => k.mint))));
    const authorityChanges = authorityBlocks
      .flatMap((b) => b.transactions.flatMap((t) => t.tokens))
      .filter((t) => t.mintAuthority !== undefined || t.freezeAuthority !== undefined);
    // The load is what makes the test able to fail: many transactions per slot over few shared mints.
    expect(blocks.reduce((a, b) => a + b.transactions.length, 0)).toBeGreaterThan(SLOTS * 400);
    expect(tokens.size).toBeLessThan(2_000);
    expect(authorityChanges.length).toBeGreaterThan(0);

    const parallel = await freshStore(LANES);
    const errors: unknown[] = [];
    // Each lane stores its own slots, two at a time, newest and oldest interleaved so lanes overlap on every row.
    await Promise.all(
      Array.from({ length: LANES }, async (_, lane) => {
        // every lane also delivers the authority-setting blocks (redelivery, as at-least-once queues do)
        const mine = [...authorityBlocks, ...blocks.filter((_, i) => i % LANES === lane)];
        for (let i = 0; i < mine.length; i += 1)
          await parallel.store
            .writeBlocks(mine.slice(i, i + 1), { commitment: "confirmed" })
            .catch((err) => errors.push(err));
      }),
    );
    expect(errors.map((e) => (e as Error).message)).toEqual([]);

    const serial = await freshStore(1);
    for (const b of [...authorityBlocks, ...blocks]) await serial.store.writeBlocks([b], { commitment: "confirmed" });
    const [p, q] = [await digestTables(parallel.url), await digestTables(serial.url)];
    for (const t of Object.keys(q))
      if (p[t]!.md5 !== q[t]!.md5) console.log(t, await diffTable(parallel.url, serial.url, t));
    expect(p).toEqual(q);
  }, 180_000);
});
