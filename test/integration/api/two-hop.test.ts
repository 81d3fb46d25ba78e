/**
 * Two-hop swaps (an Orca Whirlpool route: legs at instruction paths N and N#1), from every recorded transaction that
 * has one, served by the API: a transaction's swaps in execution order, and candles whose edge minutes are read from
 * the swaps. Before instruction_path_key, both statements cast "N#1" to an integer and answered an internal error.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type DecodedBlock, createDecoder } from "../../../indexer/decode/index.js";
import { PRESET_NAMES } from "../../../core/presets.js";
import { createStore } from "../../../indexer/store/index.js";
import { twoHopBlocks } from "../../unit/decode/fixture-txs.js";
import { type ApiHarness, setupApi } from "./harness.js";

describe("api: two-hop swaps", () => {
  let h: ApiHarness;
  let blocks: DecodedBlock[];

  beforeAll(async () => {
    h = await setupApi({ fill: false });
    const decoder = createDecoder({ programs: PRESET_NAMES });
    blocks = twoHopBlocks(decoder);
    await createStore({ db: h.writer }).writeBlocks(blocks, { commitment: "confirmed" });
  });
  afterAll(() => h.close());

  test("a transaction's swaps come in execution order, the second leg after the first", async () => {
    const txs = blocks.flatMap((b) => b.transactions);
    expect(txs.length).toBeGreaterThan(0);
    for (const tx of txs) {
      const r = await h.gql(
        `query($s: String!) { transaction(signature: $s) { swaps { instructionPath amountIn } } }`,
        {
          s: tx.transaction.signature,
        },
      );
      expect(r.body.errors).toBeUndefined();
      const paths = r.body.data.transaction.swaps.map((s: { instructionPath: string }) => s.instructionPath);
      expect(paths).toEqual(tx.swaps.map((s) => s.instructionPath).sort(byExecution));
      expect(paths.some((p: string) => p.includes("#"))).toBe(true);
    }
  });

  test("candles of each pool a second leg went through, over a range cut mid-minute (read from the swaps)", async () => {
    const legs = blocks
      .flatMap((b) => b.transactions.flatMap((t) => t.swaps))
      .filter((s) => s.instructionPath.includes("#"));
    for (const s of legs.filter((x) => x.blockTime)) {
      const t = s.blockTime!.getTime();
      const r = await h.gql(
        `query($p: String!, $from: DateTime!, $to: DateTime!) { pool(address: $p) { candles(interval: M1, from: $from, to: $to) { swaps } } }`,
        { p: s.pool, from: new Date(t - 30_000).toISOString(), to: new Date(t + 30_000).toISOString() },
      );
      expect(r.body.errors).toBeUndefined();
      const counted = r.body.data.pool.candles.reduce((n: number, c: { swaps: number }) => n + Number(c.swaps), 0);
      expect(counted).toBeGreaterThanOrEqual(1);
    }
  });
});

/** Execution order of instruction paths: "2" < "2#1" < "2.0" < "2.1" < "3". */
function byExecution(a: string, b: string): number {
  const key = (p: string) => p.replace(/#/g, ".-1.").split(".").map(Number);
  const [x, y] = [key(a), key(b)];
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}
