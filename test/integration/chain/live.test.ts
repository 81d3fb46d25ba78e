/**
 * New slots after the recorded history: PubSub notifications, synthetic load, commitment levels,
 * driven through @solana/web3.js v1 Connection.
 */
import path from "node:path";
import { type Connection, PublicKey, SolanaJSONRPCError, type Logs, type SlotInfo } from "@solana/web3.js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createChain, sharedFixturesDir, type Chain } from "../../../devchain/index.js";
import { closeConnections, connect } from "./connections.js";
import { expectSameTx } from "./recorded.js";

const WHOLE_BLOCKS = path.join(sharedFixturesDir(), "blocks/getBlock-json-mainnet-converted");
const RAYDIUM_AMM_V4 = new PublicKey("675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Collects `n` callback values, or fails after `ms`. */
function collect<T>(n: number, ms: number): { push(v: T): void; done: Promise<T[]> } {
  const got: T[] = [];
  let resolve!: (v: T[]) => void;
  let reject!: (e: Error) => void;
  const done = new Promise<T[]>((res, rej) => ((resolve = res), (reject = rej)));
  const t = setTimeout(() => reject(new Error(`only ${got.length} of ${n} within ${ms} ms`)), ms);
  return {
    push(v) {
      got.push(v);
      if (got.length === n) {
        clearTimeout(t);
        resolve(got);
      }
    },
    done,
  };
}

test("synthetic load with no recorded transactions to clone is refused at start, naming where it looked", async () => {
  await expect(createChain({ port: 0, fixtures: [], syntheticTps: 100 })).rejects.toThrow(
    /syntheticTps 100: no recorded transactions to clone in /,
  );
  const dex = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"; // a program no fixture transaction invokes
  await expect(
    createChain({ port: 0, fixtures: [WHOLE_BLOCKS], syntheticTps: 100, syntheticPrograms: [dex] }),
  ).rejects.toThrow(/that invoke the syntheticPrograms/);
});

describe("live slots with synthetic load", () => {
  let chain: Chain;
  let conn: Connection;
  let lastRecorded: number;
  beforeAll(async () => {
    chain = await createChain({ port: 0, fixtures: [WHOLE_BLOCKS], slotMs: 50, finalityLag: 6, syntheticTps: 4000 });
    conn = connect(chain.rpcUrl, "confirmed");
    lastRecorded = chain.history.slots.at(-1)!;
  });
  afterAll(async () => {
    closeConnections();
    await chain?.close();
  });

  test("web3.js derives the WebSocket endpoint as HTTP port + 1", () => {
    expect(new URL(chain.wsUrl).port).toBe(String(chain.port + 1));
  });

  test("onSlotChange delivers each new slot with its parent and root", async () => {
    const c = connect(chain.rpcUrl, "confirmed"); // no wsEndpoint: port + 1 derivation
    const slots = collect<SlotInfo>(6, 5000);
    const id = c.onSlotChange((s) => slots.push(s));
    const got = await slots.done;
    await c.removeSlotChangeListener(id);
    for (const [i, s] of got.entries()) {
      expect(s.slot).toBeGreaterThan(lastRecorded);
      expect(s.parent).toBe(s.slot - 1);
      expect(s.root).toBe(Math.max(lastRecorded, s.slot - 7)); // the root before this slot's votes
      if (i > 0) expect(s.slot).toBe(got[i - 1]!.slot + 1);
    }
  });

  test("onLogs mentioning a DEX program delivers its transactions in new slots", async () => {
    const logs = collect<{ logs: Logs; slot: number }>(5, 8000);
    const id = conn.onLogs(RAYDIUM_AMM_V4, (l, ctx) => logs.push({ logs: l, slot: ctx.slot }), "confirmed");
    const got = await logs.done;
    await conn.removeOnLogsListener(id);
    for (const { logs: l, slot } of got) {
      expect(slot).toBeGreaterThan(lastRecorded);
      expect(l.logs.length).toBeGreaterThan(0);
      const tx = await conn.getTransaction(l.signature, { maxSupportedTransactionVersion: 0, commitment: "confirmed" });
      expect(tx!.slot).toBe(slot);
      expect(tx!.meta!.logMessages).toEqual(l.logs);
      expect(tx!.meta!.err ?? null).toEqual(l.err ?? null);
      const keys = tx!.transaction.message.getAccountKeys({ accountKeysFromLookups: tx!.meta!.loadedAddresses! });
      expect(
        keys
          .keySegments()
          .flat()
          .map((k) => k.toBase58()),
      ).toContain(RAYDIUM_AMM_V4.toBase58());
    }
  });

  test("synthetic transactions are recorded ones with new signatures, slot and blockTime", async () => {
    const slot = lastRecorded + 2;
    await chain.waitForSlot(slot, "confirmed");
    const block = await conn.getBlock(slot, { maxSupportedTransactionVersion: 0 });
    expect(block!.transactions.length).toBe(200);
    expect(Math.abs(block!.blockTime! - Date.now() / 1000)).toBeLessThan(5);
    const first = (await conn.getBlock(lastRecorded + 1, { maxSupportedTransactionVersion: 0 }))!;
    const offset = first.transactions.length; // slot 1 holds templates 0..offset-1, slot 2 continues the cycle
    const recorded = new Set(chain.history.signatures);
    for (const i of [0, 1, 57, 199]) {
      const clone = block!.transactions[i]!;
      expect(recorded.has(clone.transaction.signatures[0]!)).toBe(false);
      const template = await conn.getTransaction(chain.history.signatures[offset + i]!, {
        maxSupportedTransactionVersion: 0,
      });
      const raw = {
        transaction: { signatures: clone.transaction.signatures, message: { ...template!.transaction.message } },
        meta: template!.meta,
        version: template!.version,
      };
      expect(clone.meta).toEqual(template!.meta);
      expect(clone.transaction.message.serialize()).toEqual(template!.transaction.message.serialize());
      expect(clone.version).toBe(raw.version);
      const byTx = await conn.getTransaction(clone.transaction.signatures[0]!, { maxSupportedTransactionVersion: 0 });
      expect(byTx!.slot).toBe(slot);
      expect(byTx!.blockTime).toBe(block!.blockTime);
      expect(byTx!.transaction.signatures).toEqual(clone.transaction.signatures);
    }
  });

  test("getSignaturesForAddress runs across new slots into the recorded history", async () => {
    const sigs = await conn.getSignaturesForAddress(RAYDIUM_AMM_V4, { limit: 1000 });
    expect(sigs[0]!.slot).toBeGreaterThan(lastRecorded);
    const slots = sigs.map((s) => s.slot);
    expect(slots).toEqual([...slots].sort((a, b) => b - a));
    let page = sigs;
    const seen = new Set(sigs.map((s) => s.signature));
    while (page.length === 1000) {
      page = await conn.getSignaturesForAddress(RAYDIUM_AMM_V4, { limit: 1000, before: page.at(-1)!.signature });
      for (const s of page) {
        expect(seen.has(s.signature)).toBe(false);
        seen.add(s.signature);
      }
      if (page.length) slots.push(...page.map((s) => s.slot));
    }
    expect(Math.min(...slots)).toBeLessThanOrEqual(lastRecorded);
    const statuses = new Set(sigs.map((s) => s.confirmationStatus));
    expect(statuses.has("finalized")).toBe(true);
  });

  test("onSignature fires once the transaction is confirmed", async () => {
    const slot = chain.slot("processed") + 1;
    await chain.waitForSlot(slot, "processed");
    const sig = (await conn.getBlockSignatures(slot - 3)).signatures[0]!;
    // (web3.js re-sends a refused subscription for ever: never subscribe with no signature)
    expect(sig, `a transaction in slot ${slot - 3}`).toBeTypeOf("string");
    let id: number | undefined;
    const fresh = await new Promise<{ slot: number; err: unknown }>((resolve) => {
      id = conn.onSignature(sig, (r, ctx) => resolve({ slot: ctx.slot, err: r.err }), "confirmed");
    });
    // Drop web3.js's record of the (server-side auto-removed) subscription, so it is never re-sent on a reconnect.
    await conn.removeSignatureListener(id!).catch(() => {});
    const tx = await conn.getTransaction(sig, { maxSupportedTransactionVersion: 0 });
    expect(fresh.err).toEqual(tx!.meta!.err); // clones keep their template's outcome, failures included
    expect(fresh.slot).toBe(slot - 3);
  });

  test("synthetic load runs at the requested rate", async () => {
    const s0 = chain.slot("processed");
    await sleep(1000);
    const s1 = chain.slot("processed");
    const blocks = await conn.getBlocks(s0 + 1, Math.min(s1, chain.slot("confirmed")));
    let txs = 0;
    for (const s of blocks) txs += (await conn.getBlockSignatures(s)).signatures.length;
    const perSlot = txs / blocks.length;
    expect(perSlot).toBeCloseTo(4000 * 0.05, -1);
  });
});

describe("commitment levels", () => {
  let chain: Chain;
  let conn: Connection;
  beforeAll(async () => {
    chain = await createChain({
      port: 0,
      fixtures: [WHOLE_BLOCKS],
      slotMs: 50,
      finalityLag: 5,
      syntheticTps: 400,
      autoProduce: false,
    });
    conn = connect(chain.rpcUrl, "confirmed");
  });
  afterAll(async () => {
    closeConnections();
    await chain?.close();
  });

  test("processed is the newest slot, confirmed lags 1-2, finalized lags finality-lag", async () => {
    const last = chain.history.slots.at(-1)!;
    const roots: number[] = [];
    const id = conn.onRootChange((r) => roots.push(r));
    await sleep(100);
    for (let i = 0; i < 10; i++) chain.tick();
    const processed = await conn.getSlot("processed");
    const confirmed = await conn.getSlot("confirmed");
    const finalized = await conn.getSlot("finalized");
    expect(processed).toBe(last + 10);
    expect(processed - confirmed).toBeGreaterThanOrEqual(1);
    expect(processed - confirmed).toBeLessThanOrEqual(2);
    expect(finalized).toBe(processed - 5);

    const code = async (p: Promise<unknown>) =>
      (
        (await p.then(
          () => null,
          (e: unknown) => e,
        )) as SolanaJSONRPCError
      ).code;
    expect(await code(conn.getBlock(processed, { maxSupportedTransactionVersion: 0 }))).toBe(-32004);
    expect(await conn.getBlock(confirmed, { maxSupportedTransactionVersion: 0 })).not.toBeNull();
    expect(
      await code(connect(chain.rpcUrl, "finalized").getBlock(confirmed, { maxSupportedTransactionVersion: 0 })),
    ).toBe(-32004);
    const sig = (await conn.getBlockSignatures(confirmed)).signatures[0]!;
    expect(await conn.getTransaction(sig, { maxSupportedTransactionVersion: 0, commitment: "finalized" })).toBeNull();
    expect(
      await conn.getTransaction(sig, { maxSupportedTransactionVersion: 0, commitment: "confirmed" }),
    ).not.toBeNull();
    expect(await conn.getBlocks(last, processed, "finalized")).toEqual(Array.from({ length: 6 }, (_, i) => last + i));

    for (let i = 0; i < 5; i++) chain.tick();
    await sleep(100);
    expect(
      await conn.getTransaction(sig, { maxSupportedTransactionVersion: 0, commitment: "finalized" }),
    ).not.toBeNull();
    await conn.removeRootChangeListener(id);
    expect(roots.length).toBeGreaterThan(0);
    expect(roots).toEqual(Array.from({ length: roots.length }, (_, i) => roots[0]! + i));
    expect(roots.at(-1)).toBe(last + 10);
  });

  test("--once serves the history only, all finalized, no new slots", async () => {
    const once = await createChain({ port: 0, fixtures: [WHOLE_BLOCKS], once: true, slotMs: 20 });
    try {
      const c = connect(once.rpcUrl);
      await sleep(150);
      expect(await c.getSlot("processed")).toBe(332254908);
      expect(await c.getSlot("finalized")).toBe(332254908);
      expect(once.stats().produced).toBe(0);
      const roots: number[] = [];
      const id = c.onRootChange((r) => roots.push(r));
      await sleep(200);
      await c.removeRootChangeListener(id);
      expect(roots).toEqual([]);
      // Its parent is the block served before it (the recorded mainnet parent, 332254907, is never served).
      expect(await c.getBlock(332254908, { maxSupportedTransactionVersion: 0, rewards: false })).toMatchObject({
        parentSlot: 332254855,
      });
    } finally {
      await once.close();
    }
  });
});
