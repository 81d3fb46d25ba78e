/**
 * Property: whatever rows the decoders can produce, whatever their amounts and whatever order and batching they
 * arrive in (duplicates included), the store keeps exactly one row per natural key with the amounts to the unit, and
 * pool_candles equals the aggregate of the stored swaps. fast-check generates the rows around one real mainnet
 * transaction (its pool, mints and trader), so every foreign row a candle reads exists.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { createDb, type Db } from "../../../core/db.js";
import { type DecodedBlock, type DecodedTransaction, createDecoder } from "../../../indexer/decode/index.js";
import { PRESET_NAMES } from "../../../core/presets.js";
import { createStore } from "../../../indexer/store/index.js";
import { FROM_SCRATCH } from "../../setup/candles-oracle.js";
import { decodedFixtureBlocks } from "../../setup/fixtures.js";
import { createTestDatabase } from "../../setup/services.js";

const U64_MAX = 2n ** 64n - 1n;
const U128_MAX = 2n ** 128n - 1n;

/**
 * An instruction path as the decoders write them: a top-level index, an inner one ("3.1"), and a later leg of the
 * same instruction (a two-hop swap's "3#1", "3.1#1").
 */
const instructionPath = fc
  .tuple(
    fc.nat(30),
    fc.option(fc.nat(20), { nil: undefined }),
    fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  )
  .map(([top, inner, leg]) => `${top}${inner === undefined ? "" : `.${inner}`}${leg === undefined ? "" : `#${leg}`}`);

/** Rows of one generated transaction: its swaps (u128 amounts) and transfers (u64 amounts), each path once. */
const txShape = fc.record({
  slotOffset: fc.nat(3),
  seconds: fc.nat(150),
  swaps: fc.uniqueArray(
    fc.record({
      path: instructionPath,
      amountIn: fc.bigInt(0n, U128_MAX),
      amountOut: fc.bigInt(0n, U128_MAX),
      aToB: fc.boolean(),
    }),
    { selector: (s) => s.path, minLength: 1, maxLength: 4 },
  ),
  transfers: fc.uniqueArray(fc.record({ path: instructionPath, amount: fc.bigInt(0n, U64_MAX) }), {
    selector: (t) => t.path,
    maxLength: 3,
  }),
});

type TxShape = typeof txShape extends fc.Arbitrary<infer T> ? T : never;

/** A generated case: the transactions, and how they arrive (an order of the blocks, some twice, in batches). */
const scenario = fc.uniqueArray(txShape, { minLength: 1, maxLength: 6, selector: () => Math.random() }).chain((txs) =>
  fc.record({
    txs: fc.constant(txs),
    order: fc.shuffledSubarray([0, 1, 2, 3], { minLength: 4, maxLength: 4 }),
    again: fc.subarray([0, 1, 2, 3]),
    batch: fc.integer({ min: 1, max: 3 }),
  }),
);

describe("store: any decodable rows, in any order, store and read back exactly", () => {
  let base: DecodedTransaction;
  let db: Db;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;

  beforeAll(async () => {
    const blocks = decodedFixtureBlocks(createDecoder({ programs: PRESET_NAMES }));
    base = blocks.flatMap((b) => b.transactions).find((t) => t.swaps.length > 0 && t.pools.length > 0)!;
    database = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    db = createDb(database.url, { max: 2 });
  });
  afterAll(async () => {
    await db.$client.end();
    await database.drop();
  });

  /** The blocks of a scenario: transaction i at slot base + its offset, signatures and rows derived from `base`. */
  function blocksOf(
    txs: fc.Arbitrary<unknown> extends never ? never : (typeof txShape extends fc.Arbitrary<infer T> ? T : never)[],
  ): DecodedBlock[] {
    const slot0 = 900_000_000;
    const t0 = base.transaction.blockTime!.getTime();
    const [swap] = base.swaps;
    const bySlot = new Map<number, DecodedBlock>();
    txs.forEach((g, i) => {
      const slot = slot0 + g.slotOffset;
      const signature = `${base.transaction.signature.slice(0, 40)}p${i}`;
      const blockTime = new Date(t0 + g.seconds * 1000);
      const block = bySlot.get(slot) ?? {
        slot,
        parentSlot: slot - 1,
        blockhash: `h${slot}`,
        blockTime: Math.floor(t0 / 1000) + g.seconds,
        txCount: 0,
        transactions: [],
      };
      const txIndex = block.transactions.length;
      block.transactions.push({
        ...base,
        transaction: { ...base.transaction, signature, slot, txIndex, blockTime },
        swaps: g.swaps.map((s) => ({
          ...swap!,
          signature,
          slot,
          txIndex,
          blockTime,
          instructionPath: s.path,
          mintIn: s.aToB ? swap!.mintIn : swap!.mintOut,
          mintOut: s.aToB ? swap!.mintOut : swap!.mintIn,
          amountIn: s.amountIn,
          amountOut: s.amountOut,
        })),
        transfers: g.transfers.map((t) => ({
          ...(base.transfers[0] ?? { kind: "transfer", mint: swap!.mintIn, source: null, destination: null }),
          signature,
          slot,
          txIndex,
          blockTime,
          instructionPath: t.path,
          amount: t.amount,
          fee: 0n,
        })) as DecodedTransaction["transfers"],
        pools: base.pools.map((p) => ({ ...p, slot })) as DecodedTransaction["pools"],
        liquidityEvents: [],
        programEvents: [],
        // base's own trades sit at its mainnet slot, outside this scenario's (and its partitions)
        trades: [],
      });
      block.txCount++;
      bySlot.set(slot, block);
    });
    return [...bySlot.values()];
  }

  test("one row per key, amounts to the unit, candles equal to the swaps' aggregate", {
    timeout: 240_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ txs, order, again, batch }) => {
        await db.$client.query(
          "truncate swaps, token_transfers, transactions, pools, tokens, pool_candles, slots, slot_changes",
        );
        const blocks = blocksOf(txs);
        const deliveries = [...order, ...again].map((i) => blocks[i % blocks.length]!);
        const store = createStore({ db });
        for (let i = 0; i < deliveries.length; i += batch)
          await store.writeBlocks(deliveries.slice(i, i + batch), { commitment: "confirmed" });

        const want = (rows: [string, string, string][]) => rows.map((r) => r.join(" ")).sort();
        const swaps = await db.$client.query<{ r: string }>(
          "select signature || ' ' || instruction_path || ' ' || amount_in::text || '/' || amount_out::text as r from swaps",
        );
        expect(swaps.rows.map((x) => x.r).sort()).toEqual(
          want(
            blocks.flatMap((b) =>
              b.transactions.flatMap((t) =>
                t.swaps.map(
                  (s) => [s.signature, s.instructionPath, `${s.amountIn}/${s.amountOut}`] as [string, string, string],
                ),
              ),
            ),
          ),
        );
        const transfers = await db.$client.query<{ r: string }>(
          "select signature || ' ' || instruction_path || ' ' || amount::text as r from token_transfers",
        );
        expect(transfers.rows.map((x) => x.r).sort()).toEqual(
          want(
            blocks.flatMap((b) =>
              b.transactions.flatMap((t) =>
                t.transfers.map((x) => [x.signature, x.instructionPath, String(x.amount)] as [string, string, string]),
              ),
            ),
          ),
        );
        const stored = await db.$client.query<{ r: string }>(
          "select c::text as r from pool_candles c order by pool, bucket",
        );
        const scratch = await db.$client.query<{ r: string }>(FROM_SCRATCH);
        expect(stored.rows.map((x) => x.r)).toEqual(scratch.rows.map((x) => x.r));
      }),
      { numRuns: 40, seed: 20261207 },
    );
  });
});
