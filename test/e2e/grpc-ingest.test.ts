/**
 * gRPC mode over the whole recorded history: blocks streamed from the local chain's Geyser server (from_slot replay)
 * end in the same rows as the plain fetch -> decode -> store pipeline over JSON-RPC (every table's digest), and the
 * workers took them from the stream, not from getBlock.
 */
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { type Chain, createChain, type FaultSpec, parseFaults } from "../../devchain/index.js";
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
        `grpc: ${chain.history.slots.length} blocks, ${stats.grpc_blocks} streamed, ${getBlocks.length} getBlock (full)`,
      );
      expect(stats.grpc_blocks).toBeGreaterThanOrEqual(chain.history.slots.length);
      // Every block came over the stream: a getBlock for each would mean the stream was not used.
      expect(getBlocks.length).toBeLessThan(chain.history.slots.length / 10);
    } finally {
      const code = await proc.kill("SIGTERM");
      expect(code, proc.output().slice(-3000)).toBe(0);
      await db.drop();
    }
  }, 150_000);
});
