import { afterEach, describe, expect, test } from "vitest";
import { createLogger } from "../../../core/logger.js";
import { createSlotFeed, type SlotFeed } from "../../../indexer/source/slot-feed.js";
import { type Chain, createChain } from "../../../devchain/index.js";
import { waitFor } from "../../setup/processes.js";

const logger = createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" });

describe("slot feed", () => {
  let chain: Chain | undefined;
  let feed: SlotFeed | undefined;
  afterEach(async () => {
    await feed?.close();
    await chain?.close();
  });

  test("after a close with code 1000 (where web3.js would stay silent) it subscribes again, with one subscription", async () => {
    chain = await createChain({ port: 0, slotMs: 100 });
    const slots: number[] = [];
    feed = createSlotFeed({
      rpcUrl: chain.rpcUrl,
      wsUrl: chain.wsUrl,
      stallMs: 60_000,
      logger,
      onSlot: (s) => slots.push(s),
    });
    await waitFor("first notifications", async () => slots.length > 2, 5_000, 20);
    for (let i = 0; i < 3; i++) {
      chain.dropWebSockets("1000");
      const n = slots.length;
      await waitFor("notifications after the close", async () => slots.length > n + 2, 5_000, 20);
    }
    expect(feed.reconnects()).toBe(3);
    expect(chain.subscriptions("slot")).toBe(1);
  });

  test("a silent socket (notifications stall, socket open) is replaced after stallMs", async () => {
    chain = await createChain({ port: 0, slotMs: 100, faults: "wsStall=3s,wsStallEvery=4s" });
    const slots: number[] = [];
    feed = createSlotFeed({
      rpcUrl: chain.rpcUrl,
      wsUrl: chain.wsUrl,
      stallMs: 800,
      logger,
      onSlot: (s) => slots.push(s),
    });
    await waitFor("a watchdog reconnect", async () => feed!.reconnects() > 0, 10_000, 50);
    const n = slots.length;
    await waitFor("notifications after it", async () => slots.length > n, 10_000, 50);
  }, 20_000);

  test("logs mode: one mentions subscription per program", async () => {
    chain = await createChain({ port: 0, slotMs: 100, syntheticTps: 500 });
    const sigs = new Set<string>();
    feed = createSlotFeed({
      rpcUrl: chain.rpcUrl,
      wsUrl: chain.wsUrl,
      stallMs: 60_000,
      logger,
      onSlot: () => {},
      logs: {
        programs: ["675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8", "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"],
        onLogs: (s) => sigs.add(s),
      },
    });
    await waitFor("logs notifications", async () => sigs.size > 5, 10_000, 50);
    expect(chain.subscriptions("logs")).toBe(2);
  });
});
