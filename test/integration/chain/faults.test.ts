/**
 * Fault injection: each fault kind, seen through @solana/web3.js v1 as it would be from a real node.
 */
import path from "node:path";
import { PublicKey, SolanaJSONRPCError } from "@solana/web3.js";
import { afterEach, describe, expect, test } from "vitest";
import { createChain, parseFaults, sharedFixturesDir, type Chain, type ChainOptions } from "../../../devchain/index.js";
import { closeConnections, connect } from "./connections.js";

const RAYDIUM = path.join(sharedFixturesDir(), "raydium-amm-v4/transactions-from-mainnet-blocks");
const RAYDIUM_AMM_V4 = new PublicKey("675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let chain: Chain | undefined;
afterEach(async () => {
  closeConnections();
  await chain?.close();
  chain = undefined;
});
const start = async (o: ChainOptions): Promise<Chain> =>
  (chain = await createChain({ port: 0, fixtures: [RAYDIUM], slotMs: 50, finalityLag: 4, syntheticTps: 100, ...o }));
const rpcError = async (p: Promise<unknown>): Promise<SolanaJSONRPCError> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SolanaJSONRPCError);
  return err as SolanaJSONRPCError;
};

describe("fault injection", () => {
  test("rate429: HTTP 429; web3.js retries it, or fails with the status when retries are off", async () => {
    const c = await start({ faults: "rate429=1" });
    const noRetry = connect(c.rpcUrl, { disableRetryOnRateLimit: true });
    await expect(noRetry.getSlot()).rejects.toThrow(/^429 Too Many Requests/);
    await c.close();
    const d = await start({ faults: "rate429=0.4,seed=3" });
    const conn = connect(d.rpcUrl);
    const slots = await Promise.all([1, 2, 3, 4, 5].map(() => conn.getSlot("processed")));
    for (const s of slots) expect(s).toBeGreaterThan(0);
    expect(d.stats().http429).toBeGreaterThan(0);
  });

  test("notAvailable: -32004 for a fresh slot, the same slot is served once it is older", async () => {
    const c = await start({ faults: "notAvailable=1,freshSlots=4" });
    const conn = connect(c.rpcUrl, "confirmed");
    const fresh = c.slot("confirmed") + 1;
    await c.waitForSlot(fresh, "confirmed");
    const err = await rpcError(conn.getBlock(fresh, { maxSupportedTransactionVersion: 0 }));
    expect(err.code).toBe(-32004);
    expect(err.message).toContain(`Block not available for slot ${fresh}`);
    await c.waitForSlot(fresh + 5, "processed");
    expect((await conn.getBlock(fresh, { maxSupportedTransactionVersion: 0 }))!.parentSlot).toBe(fresh - 1);
    expect(await conn.getBlock(c.history.slots[0]!, { maxSupportedTransactionVersion: 0 })).not.toBeNull();
  });

  test("notAvailable ends freshMs after a fresh slot was first asked for, though no new slot is produced", async () => {
    const c = await start({ faults: "notAvailable=1,freshMs=400", autoProduce: false });
    const conn = connect(c.rpcUrl, "confirmed");
    const fresh = c.tick();
    c.tick();
    expect((await rpcError(conn.getBlock(fresh, { maxSupportedTransactionVersion: 0 }))).code).toBe(-32004);
    await sleep(150);
    expect((await rpcError(conn.getBlock(fresh, { maxSupportedTransactionVersion: 0 }))).code).toBe(-32004);
    await sleep(300);
    expect((await conn.getBlock(fresh, { maxSupportedTransactionVersion: 0 }))!.parentSlot).toBeLessThan(fresh);
  });

  test("wsDropEvery (abnormal close): web3.js reconnects and resubscribes, notifications resume", async () => {
    const c = await start({ faults: "wsDropEvery=1500ms,wsDropCode=abnormal" });
    const conn = connect(c.rpcUrl);
    const seen: { at: number; slot: number }[] = [];
    const id = conn.onSlotChange((s) => seen.push({ at: Date.now(), slot: s.slot }));
    while (c.stats().drops! < 1) await sleep(10);
    const t0 = Date.now();
    // rpc-websockets reconnects about 1 s after an abnormal close and web3.js re-sends slotSubscribe.
    while (!seen.some((s) => s.at > t0 + 500) && Date.now() - t0 < 1450) await sleep(10);
    await conn.removeSlotChangeListener(id);
    expect(seen.some((s) => s.at > t0 + 500)).toBe(true);
    expect(c.stats().subscribes).toBeGreaterThanOrEqual(2);
    expect(c.stats().connections).toBeGreaterThanOrEqual(2);
  });

  test("wsDropEvery with code 1000: web3.js reconnects without resubscribing, so notifications stop", async () => {
    const c = await start({ faults: "wsDropEvery=800ms,wsDropCode=1000" });
    const conn = connect(c.rpcUrl);
    let last = 0;
    conn.onSlotChange(() => (last = Date.now()));
    while (c.stats().drops! < 1) await sleep(20);
    await sleep(500);
    expect(c.stats().connections).toBeGreaterThanOrEqual(2);
    expect(c.subscriptions("slot")).toBe(0);
    const quietSince = Date.now();
    await sleep(300);
    expect(last).toBeLessThan(quietSince);
  });

  test("wsStall: notifications silently stop for the stall and resume on the same socket", async () => {
    const c = await start({ faults: "wsStall=600ms,wsStallEvery=1200ms" });
    const conn = connect(c.rpcUrl);
    const seen: { at: number; slot: number }[] = [];
    const id = conn.onSlotChange((s) => seen.push({ at: Date.now(), slot: s.slot }));
    await sleep(2600);
    await conn.removeSlotChangeListener(id);
    const gaps = seen.slice(1).map((s, i) => ({ ms: s.at - seen[i]!.at, slots: s.slot - seen[i]!.slot }));
    const stall = gaps.find((g) => g.ms >= 450);
    expect(stall).toBeDefined();
    expect(stall!.slots).toBeGreaterThan(5); // slots kept coming; their notifications were lost
    expect(c.stats().connections).toBe(1);
    expect(c.stats().stalledFrames).toBeGreaterThan(0);
  });

  test("fork: a slot is confirmed, never finalized, then skipped; the next block's parent skips it", async () => {
    const c = await start({ faults: "fork=slot:+3", autoProduce: false });
    const conn = connect(c.rpcUrl, "confirmed");
    const fork = c.forkSlots[0]!;
    const roots: number[] = [];
    const id = conn.onRootChange((r) => roots.push(r));
    await sleep(100);
    while (c.slot("processed") < fork + 2) c.tick();
    expect(c.slot("confirmed")).toBeGreaterThanOrEqual(fork);
    const forked = await conn.getBlock(fork, { maxSupportedTransactionVersion: 0 });
    const sig = forked!.transactions[0]!.transaction.signatures[0]!;
    expect(await conn.getTransaction(sig, { maxSupportedTransactionVersion: 0 })).not.toBeNull();
    const after = await conn.getBlock(fork + 1, { maxSupportedTransactionVersion: 0 });
    const before = await conn.getBlock(fork - 1, { maxSupportedTransactionVersion: 0 });
    expect(after!.parentSlot).toBe(fork - 1);
    expect(after!.previousBlockhash).toBe(before!.blockhash);
    while (c.slot("finalized") < fork + 2) c.tick();
    await sleep(100);
    await conn.removeRootChangeListener(id);
    expect((await rpcError(conn.getBlock(fork, { maxSupportedTransactionVersion: 0 }))).code).toBe(-32007);
    expect(await conn.getTransaction(sig, { maxSupportedTransactionVersion: 0 })).toBeNull();
    expect(await conn.getBlocks(fork - 1, fork + 1)).toEqual([fork - 1, fork + 1]);
    expect(roots).toContain(fork - 1);
    expect(roots).toContain(fork + 1);
    expect(roots).not.toContain(fork);
  });

  test("a scripted -32007 for good is a skipped slot: its child names the block before it; one with times is transient", async () => {
    const spec = parseFaults("");
    const c = await start({ faults: spec, autoProduce: false });
    const conn = connect(c.rpcUrl, "confirmed");
    const base = c.slot("processed");
    const [skipped, transient] = [base + 2, base + 5];
    spec.rules.push(
      { method: "getBlock", slot: skipped, action: { kind: "error", code: -32007 } },
      { method: "getBlock", slot: transient, times: 1, action: { kind: "error", code: -32007 } },
    );
    while (c.slot("confirmed") < base + 7) c.tick();
    const cfg = { maxSupportedTransactionVersion: 0 };
    expect((await rpcError(conn.getBlock(skipped, cfg))).code).toBe(-32007);
    const child = await conn.getBlock(skipped + 1, cfg);
    const before = await conn.getBlock(skipped - 1, cfg);
    expect(child!.parentSlot).toBe(skipped - 1);
    expect(child!.previousBlockhash).toBe(before!.blockhash);
    // Transient: answered skipped once, then served; its child names it all along.
    expect((await conn.getBlock(transient + 1, cfg))!.parentSlot).toBe(transient);
    expect((await rpcError(conn.getBlock(transient, cfg))).code).toBe(-32007);
    const served = await conn.getBlock(transient, cfg);
    expect((await conn.getBlock(transient + 1, cfg))!.previousBlockhash).toBe(served!.blockhash);
    // Without the rule, the block is served and its child names it again.
    spec.rules.length = 0;
    const back = await conn.getBlock(skipped, cfg);
    expect((await conn.getBlock(skipped + 1, cfg))!.previousBlockhash).toBe(back!.blockhash);
  });

  test("dupLogs: logs notifications arrive twice", async () => {
    const c = await start({ faults: "dupLogs=1" });
    const conn = connect(c.rpcUrl);
    const counts = new Map<string, number>();
    const id = conn.onLogs(
      RAYDIUM_AMM_V4,
      (l) => counts.set(l.signature, (counts.get(l.signature) ?? 0) + 1),
      "processed",
    );
    while (counts.size < 10) await sleep(20);
    await conn.removeOnLogsListener(id);
    const complete = [...counts.values()].slice(0, 8);
    expect(complete.every((n) => n === 2)).toBe(true);
    expect(c.stats().dupLogs).toBeGreaterThan(0);
  });
});
