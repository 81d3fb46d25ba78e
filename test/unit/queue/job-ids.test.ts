import { createHash, randomBytes } from "node:crypto";
import bs58 from "bs58";
import { describe, expect, test } from "vitest";
import { backfillId } from "../../../indexer/backfill/index.js";
import { NonRetryableError } from "../../../core/errors.js";
import { checkJobId, liveJobId } from "../../../indexer/queue/index.js";
import { signatureJobId } from "../../../indexer/ingest/logs.js";

// Reliability bar D4: BullMQ rejects ids with ':' and treats digits-only ids as its own; every id builder must
// stay clear of both, for any slot or signature. A seeded generator makes a failure reproducible.
function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}
const rand = rng(8);
const slots = [
  0,
  1,
  9,
  10,
  2 ** 31,
  2 ** 32,
  Number.MAX_SAFE_INTEGER,
  ...Array.from({ length: 5_000 }, () => Math.floor(rand() * Number.MAX_SAFE_INTEGER)),
];
const signature = () => bs58.encode(randomBytes(64));

const valid = (id: string) => !id.includes(":") && !/^\d+$/.test(id) && id.length > 0;

describe("job ids", () => {
  test("live ids (slot-<n>) over 5,000 slots, edge values included: never digits only, never ':', one per slot", () => {
    const ids = slots.map(liveJobId);
    for (const id of ids) expect(valid(id), id).toBe(true);
    expect(new Set(ids).size).toBe(new Set(slots).size);
    for (const id of ids) expect(checkJobId(id)).toBe(id);
  });

  test("signature batch ids over 2,000 random batches: valid, and the same set in any order gives the same id", () => {
    for (let i = 0; i < 2_000; i++) {
      const sigs = Array.from({ length: 1 + Math.floor(rand() * 50) }, signature);
      const id = signatureJobId(sigs);
      expect(valid(id), id).toBe(true);
      expect(signatureJobId([...sigs].reverse())).toBe(id);
    }
  });

  test("backfill batch ids over 2,000 random plans: valid", () => {
    for (let i = 0; i < 2_000; i++) {
      const from = Math.floor(rand() * 400_000_000);
      const plan =
        rand() < 0.5
          ? { kind: "slots" as const, fromSlot: from, toSlot: from + Math.floor(rand() * 1e6), batchSize: 20 }
          : {
              kind: "address" as const,
              address: bs58.encode(randomBytes(32)),
              before: rand() < 0.5 ? signature() : undefined,
              batchSize: 20,
            };
      const id = backfillId(plan);
      // as built in runBackfill: `${id}-${first}-${last}` and `${id}-${sha1 prefix}`
      for (const jobId of [
        `${id}-${from}-${from + 19}`,
        `${id}-${createHash("sha1").update(String(from)).digest("hex").slice(0, 16)}`,
      ])
        expect(valid(jobId), jobId).toBe(true);
    }
  });

  test("the queue refuses an id with ':' or digits only, before it reaches Redis", () => {
    for (const bad of ["123", "0", "slot:1", "a:b", ""]) expect(() => checkJobId(bad), bad).toThrow(NonRetryableError);
  });
});
