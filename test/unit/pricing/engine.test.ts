/**
 * The pricing stage's arithmetic and slot engine, pure: fixed-point decimals, a stablecoin side valued exactly, the
 * deepest pool above the floor setting a price, SOL priced before the tokens quoted in it, and a run split in two
 * giving the rows of one run.
 */
import { describe, expect, test } from "vitest";
import {
  UNIT_SCALE,
  USD_SCALE,
  divRound,
  fromDecimal,
  stableUnitPrice,
  toDecimal,
  valueOf,
  wholeUsd,
} from "../../../indexer/pricing/compute.js";
import { type EngineState, type PoolState, type SlotInput, priceSlots } from "../../../indexer/pricing/engine.js";
import { USDC_MINT, WSOL_MINT } from "../../../core/presets.js";

const TOKEN = "TokenMint1111111111111111111111111111111111";
const book = () => ({
  stables: new Map([[USDC_MINT, stableUnitPrice(6)]]),
  sol: WSOL_MINT,
  prices: new Map<string, bigint>(),
});
const pool = (mintA: string, mintB: string): PoolState => ({
  mintA,
  mintB,
  reserveA: null,
  reserveB: null,
  volumeA: null,
  volumeB: null,
});
const swap = (p: string, mintIn: string, amountIn: bigint, mintOut: string, amountOut: bigint, n = 0) => ({
  signature: `sig${n}`,
  instructionPath: "0",
  pool: p,
  mintIn,
  amountIn,
  mintOut,
  amountOut,
});
const slot = (n: number, over: Partial<SlotInput>): SlotInput => ({
  slot: n,
  blockTime: null,
  changes: [],
  swaps: [],
  trades: [],
  ...over,
});

describe("pricing arithmetic", () => {
  test("decimal strings round-trip and trim", () => {
    expect(toDecimal(1_500_000n, 6)).toBe("1.5");
    expect(toDecimal(0n, 12)).toBe("0");
    expect(toDecimal(42n, 36)).toBe(`0.${"0".repeat(34)}42`);
    expect(fromDecimal("1.5", 6)).toBe(1_500_000n);
    expect(fromDecimal(toDecimal(123456789n, UNIT_SCALE), UNIT_SCALE)).toBe(123456789n);
    expect(fromDecimal("0.0000015", 6)).toBe(2n); // half up
  });

  test("divRound rounds half up", () => {
    expect(divRound(5n, 2n)).toBe(3n);
    expect(divRound(4n, 3n)).toBe(1n);
    expect(divRound(5n, 3n)).toBe(2n);
  });

  test("a stablecoin side is worth exactly its amount, whatever the other side's price", () => {
    const b = book();
    b.prices.set(TOKEN, 999n);
    const v = valueOf(b, { mint: TOKEN, amount: 10n ** 9n }, { mint: USDC_MINT, amount: 1_234_567n });
    expect(toDecimal(v!, USD_SCALE)).toBe("1.234567");
  });

  test("no side priced: no value", () => {
    expect(valueOf(book(), { mint: TOKEN, amount: 1n }, { mint: WSOL_MINT, amount: 1n })).toBeNull();
  });
});

describe("pricing engine", () => {
  /** SOL/USDC deep and thin pools, a token/SOL pool; the engine state over them. */
  function state(floorUsd = 10_000): EngineState {
    return {
      book: book(),
      pools: new Map([
        ["deep", pool(WSOL_MINT, USDC_MINT)],
        ["thin", pool(WSOL_MINT, USDC_MINT)],
        ["tok", pool(TOKEN, WSOL_MINT)],
      ]),
      candidates: new Map([
        [WSOL_MINT, ["deep", "thin"]],
        [TOKEN, ["tok"]],
      ]),
      floor: wholeUsd(floorUsd),
    };
  }
  const slots: SlotInput[] = [
    slot(1, {
      // deep: 1,000,000 USDC; 150 USD/SOL from its swap. thin: 100 USDC; 1,000 USD/SOL from its swap.
      changes: [
        { pool: "deep", reserveA: 6_666n * 10n ** 9n, reserveB: 10n ** 12n },
        { pool: "thin", reserveA: 10n ** 9n, reserveB: 100n * 10n ** 6n },
      ],
      swaps: [
        swap("deep", USDC_MINT, 150n * 10n ** 6n, WSOL_MINT, 10n ** 9n, 1),
        swap("thin", WSOL_MINT, 10n ** 9n, USDC_MINT, 1_000n * 10n ** 6n, 2),
      ],
    }),
    slot(2, {
      // the token: 1,000 SOL reserve, 1 token (6 decimals) for 0.01 SOL
      changes: [{ pool: "tok", reserveA: 10n ** 12n, reserveB: 1_000n * 10n ** 9n }],
      swaps: [swap("tok", WSOL_MINT, 10n ** 7n, TOKEN, 10n ** 6n, 3)],
    }),
    slot(3, {
      // only the thin pool swaps: SOL's price stays the deep pool's
      swaps: [swap("thin", USDC_MINT, 500n * 10n ** 6n, WSOL_MINT, 10n ** 8n, 4)],
    }),
  ];

  test("the deepest pool above the floor sets SOL's price; a thin pool never does", () => {
    const out = priceSlots(state(), slots);
    const sol = out.tokenPrices.filter((p) => p.mint === WSOL_MINT);
    expect(sol.map((p) => p.pool)).toEqual(["deep", "deep"]);
    // 150 USD per SOL = 150e-9 USD per lamport
    expect(toDecimal(sol[0]!.price * 10n ** 9n, UNIT_SCALE)).toBe("150");
  });

  test("a token is priced through SOL at SOL's price; swap values use it", () => {
    const out = priceSlots(state(), slots);
    const tok = out.tokenPrices.find((p) => p.mint === TOKEN)!;
    // 0.01 SOL at 150 USD = 1.5 USD per whole token (10^6 units)
    expect(toDecimal(tok.price * 10n ** 6n, UNIT_SCALE)).toBe("1.5");
    const v = out.swapValues.find((s) => s.signature === "sig3")!;
    expect(toDecimal(v.value!, USD_SCALE)).toBe("1.5");
    const usdc = out.swapValues.find((s) => s.signature === "sig1")!;
    expect(toDecimal(usdc.value!, USD_SCALE)).toBe("150");
  });

  test("with the floor above every pool, nothing sets a price", () => {
    const out = priceSlots(state(10_000_000), slots);
    expect(out.tokenPrices).toEqual([]);
    expect(out.swapValues.find((s) => s.signature === "sig3")!.value).toBeNull();
  });

  test("a run split in two writes what one run writes, from the state the first left", () => {
    const whole = priceSlots(state(), slots);
    const st = state();
    const first = priceSlots(st, slots.slice(0, 1));
    // the second run starts from the rounded state, as read back from the tables
    const second = priceSlots(st, slots.slice(1));
    expect({
      tokenPrices: [...first.tokenPrices, ...second.tokenPrices],
      poolTvl: [...first.poolTvl, ...second.poolTvl],
      swapValues: [...first.swapValues, ...second.swapValues],
      tradeValues: [...first.tradeValues, ...second.tradeValues],
    }).toEqual(whole);
  });
});
