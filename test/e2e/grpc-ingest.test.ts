/**
 * gRPC mode over the whole recorded history: blocks streamed from the local chain's Geyser server (from_slot replay)
 * end in the same rows as the plain fetch -> decode -> store pipeline over JSON-RPC (every table's digest), and the
 * workers took them from the stream, not from getBlock. The subscription names the tracked programs in the blocks
 * filter's `account_include`: the server sends only their transactions (votes and other programs stay on it).
 */
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { createLogger } from "../../core/logger.js";
import { PRESET_NAMES, resolvePrograms } from "../../core/presets.js";
import type { RawBlock } from "../../core/solana-types.js";
import { type Chain, createChain, type FaultSpec, parseFaults } from "../../devchain/index.js";
import { createGeyserFeed, type FeedBlock } from "../../indexer/source/index.js";
import { diffTable, digestTables } from "../setup/digest.js";
import { caughtUp, ingestEnv } from "../setup/ingest-env.js";
import { spawnSlotline, waitFor } from "../setup/processes.js";
import { writeReference } from "../setup/reference.js";
import { createTestDatabase, uniquePrefix } from "../setup/services.js";
import { freePort } from "./reliability/rpc-harness.js";

describe("gRPC mode over the recorded history (local chain's Geyser server, real processes)", () => {
  let chain: Chain;
  let spec: FaultSpec;
  let ref: Awaited<ReturnType<typeof createTestDatabase>>;
  let reference: Record<string, unknown>;

  beforeAll(async () => {
    spec = parseFaults("");
    spec.log = { entries: [] };
    chain = await createChain({ port: 0, once: true, faults: spec, grpcReplaySlots: 1_000_000 });
    ref = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    await writeReference(chain.rpcUrl, ref.url, chain.history.slots, "finalized");
    reference = await digestTables(ref.url);
    spec.log.entries.length = 0;
  }, 120_000);
  afterAll(async () => {
    await chain?.close();
    await ref?.drop();
  });

  test("stores exactly what block mode stores, every block taken from the stream", async () => {
    const db = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    const proc = spawnSlotline(
      ["start"],
      ingestEnv(chain, db.url, inject("redisUrl"), uniquePrefix(), {
        INGEST_MODE: "grpc",
        SOLANA_GRPC_URL: chain.grpcUrl,
        SOLANA_GRPC_TOKEN: "test-token-not-checked",
        API_PORT: String(await freePort()),
        METRICS_PORT: String(await freePort()),
      }),
    );
    try {
      await waitFor("gRPC ingest to reach the tip", () => caughtUp(db.url, chain.slot("confirmed")), 90_000);
      const got = await digestTables(db.url);
      for (const t of Object.keys(reference))
        if (JSON.stringify(got[t]) !== JSON.stringify(reference[t]))
          expect.soft({ t, ...(await diffTable(db.url, ref.url, t)) }).toEqual({ t, onlyA: [], onlyB: [] });
      expect(got).toEqual(reference);
      const stats = chain.stats();
      const getBlocks = spec.log!.entries.filter(
        (e) =>
          e.method === "getBlock" &&
          (e.params as [number, { transactionDetails?: string }])[1]?.transactionDetails === "full",
      );
      console.log(
        `grpc: ${chain.history.slots.length} blocks, ${stats.grpc_blocks} streamed, ${getBlocks.length} getBlock (full), ${stats.grpc_transactions} transactions sent, ${stats.grpc_transactionsLeftOut} left out by the filter, ${stats.grpc_bytes} bytes`,
      );
      expect(stats.grpc_blocks).toBeGreaterThanOrEqual(chain.history.slots.length);
      // The process subscribed with the filter and the server applied it: most of the history (votes, untracked
      // programs) never crossed the wire, and the rows are still block mode's.
      expect(stats.grpc_transactionsLeftOut).toBeGreaterThan(Number(stats.grpc_transactions));
      // Every block came over the stream: a getBlock for each would mean the stream was not used.
      expect(getBlocks.length).toBeLessThan(chain.history.slots.length / 10);
    } finally {
      const code = await proc.kill("SIGTERM");
      expect(code, proc.output().slice(-3000)).toBe(0);
      await db.drop();
    }
  }, 150_000);

  test("the blocks filter: only transactions naming a tracked program are streamed, each at its position", async () => {
    const programs = resolvePrograms(PRESET_NAMES);
    const tracked = new Set(programs);
    const slots = chain.history.slots;
    /** Streams the history from its first slot; returns the blocks and the bytes the server wrote for them. */
    const stream = async (filter: string[] | undefined) => {
      const got = new Map<number, FeedBlock>();
      const bytes0 = Number(chain.stats().grpc_bytes);
      const feed = createGeyserFeed({
        url: chain.grpcUrl,
        commitment: "confirmed",
        stallMs: 10_000,
        programs: filter,
        logger: createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" }),
        fromSlot: () => slots[0],
        onBlock: async (b) => void got.set(b.slot, b),
        onSlot: () => {},
        onReplayRefused: () => {},
      });
      try {
        await waitFor("every recorded block over the stream", async () => got.size >= slots.length, 30_000);
      } finally {
        await feed.close();
      }
      return { got, bytes: Number(chain.stats().grpc_bytes) - bytes0 };
    };
    const filtered = await stream(programs);
    const whole = await stream(undefined);

    let sent = 0;
    let leftOut = 0;
    let votesLeftOut = 0;
    for (const slot of slots) {
      const res = await fetch(chain.rpcUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "getBlock",
          params: [slot, { encoding: "json", maxSupportedTransactionVersion: 0, rewards: false }],
        }),
      });
      const block = ((await res.json()) as { result: RawBlock }).result;
      // What a Yellowstone server matches: the static keys and the ones loaded from lookup tables.
      const names = (i: number) => {
        const t = block.transactions[i]!;
        const keys = [
          ...t.transaction.message.accountKeys,
          ...(t.meta?.loadedAddresses?.writable ?? []),
          ...(t.meta?.loadedAddresses?.readonly ?? []),
        ];
        return keys.some((k) => tracked.has(k));
      };
      const want = block.transactions.flatMap((t, i) => (names(i) ? [[i, t.transaction.signatures[0]]] : []));
      const answer = JSON.parse(filtered.got.get(slot)!.answer!.toString()) as {
        result: RawBlock;
        filtered?: { indexes: number[]; count: number; programs: string[] };
      };
      const got = answer.result.transactions.map((t, k) => [
        answer.filtered ? answer.filtered.indexes[k] : k,
        t.transaction.signatures[0],
      ]);
      expect(got, `slot ${slot}`).toEqual(want);
      if (answer.filtered) {
        expect(answer.filtered.count).toBe(block.transactions.length);
        expect(new Set(answer.filtered.programs)).toEqual(tracked);
      }
      sent += want.length;
      leftOut += block.transactions.length - want.length;
      votesLeftOut += block.transactions.filter((t) =>
        t.transaction.message.accountKeys.includes("Vote111111111111111111111111111111111111111"),
      ).length;
      // Unfiltered, the same slot carries its whole block.
      const all = JSON.parse(whole.got.get(slot)!.answer!.toString()) as { result: RawBlock; filtered?: unknown };
      expect(all.filtered).toBeUndefined();
      expect(all.result.transactions.length).toBe(block.transactions.length);
    }
    console.log(
      `grpc filter: ${sent} transactions streamed, ${leftOut} left out (${votesLeftOut} votes); ${filtered.bytes} bytes filtered against ${whole.bytes} whole`,
    );
    expect(votesLeftOut).toBeGreaterThan(0);
    expect(leftOut).toBeGreaterThan(sent);
    // Votes are small and the tracked programs' transactions large (logs, inner instructions): 0.76 of the bytes
    // measured on the recorded history, for 22% of its transactions.
    expect(filtered.bytes).toBeLessThan(whole.bytes * 0.85);
  }, 60_000);
});
