import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { parseConfig } from "../../core/config.js";
import { createDb } from "../../core/db.js";
import { createPricer } from "../../indexer/pricing/index.js";
import { createStore } from "../../indexer/store/index.js";
import { digestTables } from "../setup/digest.js";
import { createDecoder } from "../../indexer/decode/index.js";
import { PRESET_NAMES, resolvePrograms } from "../../core/presets.js";
import { fetchBlocks } from "../../indexer/source/blocks.js";
import { createRpcClient } from "../../indexer/source/rpc.js";
import { type Chain, createChain } from "../../devchain/index.js";
import { ingestEnv, query } from "../setup/ingest-env.js";
import { expectedBalances, holderMismatches, storedBalances } from "../setup/balances-oracle.js";
import { type SlotlineProcess, spawnSlotline, waitFor } from "../setup/processes.js";
import { createTestDatabase, uniquePrefix } from "../setup/services.js";

// Logs mode under duplicate notifications and WebSocket closes with code 1000 (after which web3.js
// never resubscribes): the sweep must find every signature the subscriptions missed, and duplicates must not
// double anything.
describe("logs mode (INGEST_MODE=logs)", () => {
  let chain: Chain;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let proc: SlotlineProcess | undefined;

  beforeAll(async () => {
    chain = await createChain({
      port: 0,
      autoProduce: false,
      syntheticTps: 300,
      slotMs: 400,
      finalityLag: 4,
      faults: "dupLogs=0.3,wsDropEvery=1500ms,wsDropCode=1000",
    });
    db = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
  });
  afterAll(async () => {
    await proc?.kill("SIGKILL");
    await chain?.close();
    await db?.drop();
  });

  test("stores every transaction of the new slots that mentions a tracked program, once", async () => {
    const env = ingestEnv(chain, db.url, inject("redisUrl"), uniquePrefix(), {
      INGEST_MODE: "logs",
      LOGS_SWEEP_MS: "500",
      WS_STALL_MS: "2000",
    });
    proc = spawnSlotline(["start"], env);
    const programs = resolvePrograms(PRESET_NAMES);
    // Ready once the first sweep has given every program its starting point.
    await waitFor(
      "every program's sweep cursor",
      async () =>
        (await query<{ n: number }>(db.url, "select count(*)::int as n from cursors where id like 'logs-%'"))[0]!.n ===
        programs.length,
      30_000,
    );
    const first = chain.slot("processed") + 1;
    for (let i = 0; i < 20; i++) {
      chain.tick();
      await new Promise((r) => setTimeout(r, 150));
    }
    for (let i = 0; i < 4; i++) chain.tick(); // let the last slots reach confirmed
    const last = chain.slot("confirmed");

    // The oracle: what block mode would store for the same slots.
    const rpc = createRpcClient({
      url: chain.rpcUrl,
      maxRps: 100_000,
      concurrency: 4,
      batchSize: 10,
      timeoutMs: 30_000,
      maxAttempts: 20,
    });
    const slots = await rpc.call<number[]>("getBlocks", [first, last, { commitment: "confirmed" }]);
    const decoder = createDecoder({ programs: PRESET_NAMES });
    const blocks = (await fetchBlocks(rpc, slots, "confirmed")).blocks.map(({ slot, block }) =>
      decoder.decodeBlock(block, slot),
    );
    const decoded = blocks.flatMap((b) => b.transactions);
    const expected = new Set(decoded.map((t) => t.transaction.signature));
    expect(expected.size).toBeGreaterThan(50);

    const stored = async () =>
      new Set(
        (
          await query<{ signature: string }>(
            db.url,
            "select signature from transactions where slot between $1 and $2",
            [first, last],
          )
        ).map((r) => r.signature),
      );
    await waitFor(
      "every expected signature to be stored",
      async () => {
        const got = await stored();
        return [...expected].every((s) => got.has(s));
      },
      60_000,
    ).catch(() => {});
    const got = await stored();
    expect([...expected].filter((s) => !got.has(s))).toEqual([]);
    expect([...got].filter((s) => !expected.has(s))).toEqual([]);
    const [counts] = await query<{ transfers: number; swaps: number }>(
      db.url,
      "select (select count(*)::int from token_transfers where slot between $1 and $2) transfers, (select count(*)::int from swaps where slot between $1 and $2) swaps",
      [first, last],
    );
    expect(counts!.transfers).toBe(decoded.flatMap((t) => t.transfers).length);
    expect(counts!.swaps).toBe(decoded.flatMap((t) => t.swaps).length);
    // Every transaction at its position in its block, and the same balances as block mode over the same history
    // (every signature arrives alone, out of order and twice: balances follow chain order, not arrival order).
    const positions = await query<{ signature: string; tx_index: number }>(
      db.url,
      "select signature, tx_index from transactions where slot between $1 and $2",
      [first, last],
    );
    const want = new Map(decoded.map((t) => [t.transaction.signature, t.transaction.txIndex]));
    expect(positions.filter((p) => want.get(p.signature) !== p.tx_index)).toEqual([]);
    const balances = expectedBalances(blocks);
    expect(balances.accounts.length).toBeGreaterThan(50);
    expect(await storedBalances(db.url)).toEqual(balances);
    expect(await holderMismatches(db.url)).toEqual({ holders: [], counts: [] });
    // The faults really happened: notifications were duplicated and sockets closed with 1000.
    expect(chain.stats().dupLogs).toBeGreaterThan(0);
    expect(chain.stats().drops).toBeGreaterThan(0);

    // Prices and USD values: the pricing stage follows the point up to which the sweeps found every transaction
    // stored, and ends where block mode's does over the same transactions.
    const pricedTo = async () =>
      Number(
        (await query<{ slot: string | null }>(db.url, "select slot::text as slot from cursors where id = 'pricing'"))[0]
          ?.slot ?? -1,
      );
    await waitFor("the pricing stage to pass the last slot", async () => (await pricedTo()) >= last, 60_000);
    const upTo = await pricedTo();
    const [valued] = await query<{ n: number }>(
      db.url,
      "select count(*)::int as n from swaps where value_usd is not null and slot between $1 and $2",
      [first, last],
    );
    expect(valued!.n).toBeGreaterThan(0);
    const blockMode = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    const handle = createDb(blockMode.url, { max: 2 });
    try {
      await createStore({ db: handle }).writeBlocks(blocks, { commitment: "confirmed" });
      await createPricer({ db: handle, config: parseConfig({}) }).catchUp({ upTo });
      expect(await digestTables(db.url, { pricing: true })).toEqual(
        await digestTables(blockMode.url, { pricing: true }),
      );
    } finally {
      await handle.$client.end();
      await blockMode.drop();
    }
    expect(await proc.kill("SIGTERM")).toBe(0);
  }, 180_000);
});
