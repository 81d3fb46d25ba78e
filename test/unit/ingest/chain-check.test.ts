/**
 * The link check live ingest runs on the `slots` table before it moves the resume point, on the links of real
 * mainnet blocks: each block's parent slot and previousBlockhash, and the parent as the block names it.
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { checkLinks, onFinalizedChain } from "../../../indexer/ingest/chain-check.js";
import { CHAIN_FETCHES, gapReason, type IngestStatus, ingestHealth } from "../../../indexer/ingest/live.js";
import type { ChainRow } from "../../../indexer/store/index.js";
import { fixturePath } from "../../setup/fixtures.js";

/** A stored row of a real block, as the worker writes it. */
function blockRow(file: string): ChainRow {
  const raw = JSON.parse(readFileSync(fixturePath("blocks", "getBlock-json-mainnet-converted", file), "utf8"));
  const b = (raw.result ?? raw) as { parentSlot: number; blockhash: string; previousBlockhash: string };
  const slot = Number(/_(\d+)\./.exec(file)![1]);
  return {
    slot,
    status: "indexed",
    parentSlot: b.parentSlot,
    blockhash: b.blockhash,
    previousBlockhash: b.previousBlockhash,
  };
}

const child = blockRow("mainnet_block_332254855.converted.json");
const other = blockRow("mainnet_block_332254908.converted.json");
/** The child's parent as the child names it (stored without links of its own: the row of the slot ingest started at). */
const parent: ChainRow = {
  slot: child.parentSlot!,
  status: "indexed",
  parentSlot: null,
  blockhash: child.previousBlockhash,
  previousBlockhash: null,
};
const none = async () => undefined;

describe("checkLinks", () => {
  test("a block naming the previous stored block and its hash verifies the range", async () => {
    const r = await checkLinks(parent.slot - 1, child.slot + 10, [parent, child], none);
    expect(r).toEqual({ verifiedTo: child.slot + 10 });
  });

  test("the first block past the resume point may name a parent below it that was never stored", async () => {
    expect(await checkLinks(parent.slot, child.slot, [child], none)).toEqual({ verifiedTo: child.slot });
  });

  test("a parent left out of getBlocks holds the resume point below its child and is the slot to fetch", async () => {
    const r = await checkLinks(parent.slot - 1, child.slot + 10, [child], none);
    expect(r.verifiedTo).toBe(child.slot - 1);
    expect(r.gap).toMatchObject({ slot: child.slot, parent: parent.slot, expected: null, fetch: parent.slot });
    expect(r.gap!.reason).toMatch(/left out of getBlocks/);
  });

  test("a parent the node called skipped, named by its child, is fetched again", async () => {
    const skipped = { ...parent, status: "skipped", blockhash: null };
    const above = await checkLinks(parent.slot - 1, child.slot, [skipped, child], none);
    expect(above.gap).toMatchObject({ slot: child.slot, fetch: parent.slot });
    expect(above.gap!.reason).toMatch(/node said skipped/);
    // At or below the resume point too: read from the store.
    const below = await checkLinks(parent.slot, child.slot, [child], async (s) =>
      s === parent.slot ? skipped : undefined,
    );
    expect(below).toMatchObject({ verifiedTo: child.slot - 1, gap: { fetch: parent.slot } });
  });

  test("a previousBlockhash that is not the parent's blockhash holds the resume point and fetches the block again", async () => {
    const wrong = { ...parent, blockhash: other.blockhash };
    const r = await checkLinks(parent.slot - 1, child.slot + 5, [wrong, child], none);
    expect(r.verifiedTo).toBe(child.slot - 1);
    expect(r.gap).toMatchObject({ slot: child.slot, parent: parent.slot, expected: parent.slot, fetch: child.slot });
    expect(r.gap!.reason).toMatch(/previousBlockhash is not the blockhash of slot 332254854/);
    // The same parent read from the store (below the resume point).
    const stored = await checkLinks(parent.slot, child.slot, [child], async () => wrong);
    expect(stored.gap).toMatchObject({ slot: child.slot, fetch: child.slot });
  });

  test("a block naming a parent below the previous block that the store does not have is a gap", async () => {
    // `other` (332254908) names 332254907; the previous stored block is `child` (332254855): 907 is above it.
    const r = await checkLinks(parent.slot - 1, other.slot, [parent, child, other], none);
    expect(r.gap).toMatchObject({ slot: other.slot, expected: child.slot, fetch: other.parentSlot });
    // A parent below the previous block that was never stored and is not the start: fetched again, then an alarm.
    const lower = { ...other, parentSlot: parent.slot - 5 };
    const r2 = await checkLinks(parent.slot - 3, other.slot, [parent, child, lower], none);
    expect(r2.gap).toMatchObject({ slot: other.slot, fetch: other.slot });
    expect(r2.gap!.reason).toMatch(/neither the previous block/);
  });

  test("rows not indexed are passed over, and rows without links are trusted", async () => {
    // `other` names a parent never stored, but it was rolled back: not a block of the chain any more.
    const rolled = { ...other, status: "rolled_back" };
    const noLinks = { ...child, parentSlot: null, blockhash: null, previousBlockhash: null };
    expect(await checkLinks(parent.slot - 1, other.slot, [parent, child, rolled], none)).toEqual({
      verifiedTo: other.slot,
    });
    expect(await checkLinks(parent.slot - 1, child.slot, [noLinks], none)).toEqual({ verifiedTo: child.slot });
  });
});

describe("onFinalizedChain", () => {
  const rows = (...r: ChainRow[]) => new Map(r.map((x) => [x.slot, x]));
  test("a block getBlocks left out is on the finalized chain when the listed block above it names it", () => {
    expect(onFinalizedChain(parent.slot, rows(parent, child), [child.slot])).toBe("kept");
  });
  test("named with another hash, or passed over, it is dropped", () => {
    expect(onFinalizedChain(parent.slot, rows({ ...parent, blockhash: other.blockhash }, child), [child.slot])).toBe(
      "dropped",
    );
    const over = { ...child, parentSlot: parent.slot - 1 };
    expect(onFinalizedChain(parent.slot, rows(parent, over), [over.slot])).toBe("dropped");
  });
  test("undecided while no listed block above it is stored, or its descent is not", () => {
    expect(onFinalizedChain(parent.slot, rows(parent), [child.slot])).toBe("undecided");
    expect(onFinalizedChain(parent.slot, rows(parent, child), [])).toBe("undecided");
    // `other` names 332254907, which is not stored: the descent from it to the parent is unknown yet.
    expect(onFinalizedChain(parent.slot, rows(parent, other), [other.slot])).toBe("undecided");
  });
});

describe("/health and /ready while a block does not chain", () => {
  const status = (fetches: number): IngestStatus => ({
    tip: child.slot + 5,
    finalized: null,
    resumeSlot: parent.slot,
    queueDepth: 0,
    updatedAt: "2025-04-09T04:54:22.000Z",
    gap: {
      slot: child.slot,
      parent: parent.slot,
      expected: null,
      reason: `parent ${parent.slot} was left out of getBlocks; fetching it`,
      fetching: parent.slot,
      fetches,
    },
  });
  test("while it is being fetched: reported at the top level, still healthy and ready", () => {
    const h = ingestHealth(status(1));
    expect(h.gap).toMatchObject({ slot: child.slot, fetching: parent.slot, fetches: 1 });
    expect(h.status).toBeUndefined();
    expect(gapReason(status(CHAIN_FETCHES - 1))).toBeNull();
  });
  test("after the fetches ran out: an alarm, with the reason on /ready", () => {
    expect(ingestHealth(status(CHAIN_FETCHES)).status).toBe("failed");
    expect(gapReason(status(CHAIN_FETCHES))).toBe(
      `resume point held below slot ${child.slot}: parent ${parent.slot} was left out of getBlocks; fetching it (fetched ${CHAIN_FETCHES} times)`,
    );
    const { gap: _, ...healthy } = status(0);
    expect(ingestHealth(healthy)).toEqual({ ingest: healthy });
  });
});
