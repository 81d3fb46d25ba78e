import { describe, expect, test } from "vitest";
import { parseChainEvent } from "../../../api/server/event-hub.js";
import { createDecoder } from "../../../indexer/decode/index.js";
import { PRESET_NAMES } from "../../../core/presets.js";
import { toEvent } from "../../../indexer/pipeline/worker.js";
import { decodedFixtureBlocks } from "../../setup/fixtures.js";

// The indexer publishes, the API parses: both sides of the Redis event contract, on the real mainnet blocks.
describe("batch events", () => {
  test("what the indexer publishes after a stored batch is what the API accepts, swap for swap", () => {
    const decoder = createDecoder({ programs: PRESET_NAMES });
    const blocks = decodedFixtureBlocks(decoder);
    const event = toEvent(blocks, [332254856]);
    const parsed = parseChainEvent(JSON.stringify(event));
    expect(parsed).not.toBeNull();
    expect(parsed!.slots).toEqual([332254855, 332254856, 332254908]);
    const swaps = blocks.flatMap((b) => b.transactions.flatMap((t) => t.swaps));
    expect(parsed!.swaps).toHaveLength(swaps.length);
    expect(parsed!.swaps[0]!.amountIn).toBe(swaps[0]!.amountIn.toString());
    expect(parsed!.transactions).toHaveLength(blocks.flatMap((b) => b.transactions).length);
  });
});
