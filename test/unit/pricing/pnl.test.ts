/** The wallet PnL walk (indexer/pricing/pnl.ts): average cost by hand, and one walk equal to any split of it. */
import { describe, expect, test } from "vitest";
import { UNIT_SCALE, fromDecimal } from "../../../indexer/pricing/compute.js";
import { type PnlBasis, type PnlTrade, basisKey, walkPnl } from "../../../indexer/pricing/pnl.js";

const USD = (s: string) => fromDecimal(s, UNIT_SCALE);
let n = 0;
/** A trade of wallet `w` at the next slot: sold `sold` of A or B for `bought` of the other, worth `usd`. */
const trade = (soldMint: string, soldAmount: bigint, boughtMint: string, boughtAmount: bigint, usd: string | null) =>
  ({
    trader: "w",
    slot: ++n,
    txIndex: 0,
    blockTime: null,
    soldMint,
    soldAmount,
    boughtMint,
    boughtAmount,
    valueUsd: usd,
  }) satisfies PnlTrade;

describe("walkPnl", () => {
  test("average cost: two buys, a sale of part, a sale beyond the basis, an unpriced trade", () => {
    const trades = [
      trade("USD", 10n, "T", 100n, "10"),
      trade("USD", 30n, "T", 100n, "30"),
      // 50 of 200 at 0.2 average: basis 10, proceeds 15
      trade("T", 50n, "USD", 15n, "15"),
      // unpriced: amounts only, the basis stays
      trade("T", 10n, "X", 1n, null),
      // 200 sold, 150 covered: basis 30, proceeds 150/200 of 48
      trade("T", 200n, "USD", 48n, "48"),
    ];
    const rows = walkPnl(trades, new Map()).filter((r) => r.mint === "T");
    expect(rows.map((r) => [r.boughtAmount, r.soldAmount, r.realizedUsd, r.qty, r.cost])).toEqual([
      [100n, 0n, 0n, 100n, USD("10")],
      [100n, 0n, 0n, 200n, USD("40")],
      [0n, 50n, USD("5"), 150n, USD("30")],
      [0n, 10n, 0n, 150n, USD("30")],
      [0n, 200n, USD("6"), 0n, 0n],
    ]);
    expect(rows.map((r) => [r.boughtUsd, r.soldUsd])).toEqual([
      [USD("10"), 0n],
      [USD("30"), 0n],
      [0n, USD("15")],
      [0n, 0n],
      [0n, USD("48")],
    ]);
  });

  test("a loss, truncated division at 36 digits, and a trade of a mint for itself as one row", () => {
    const rows = walkPnl(
      [trade("USD", 3n, "T", 3n, "1"), trade("T", 1n, "USD", 1n, "0.1"), trade("T", 5n, "T", 7n, "2")],
      new Map(),
    ).filter((r) => r.mint === "T");
    // basis 1/3 a unit, truncated: 0.333...3 (36 threes); realized 0.1 - that
    expect(rows[1]!.realizedUsd).toBe(USD("0.1") - (10n ** 36n - 1n) / 3n);
    expect(rows[1]!.realizedUsd < 0n).toBe(true);
    expect(rows).toHaveLength(3);
    expect(rows[2]).toMatchObject({ boughtAmount: 7n, soldAmount: 5n, boughtUsd: USD("2"), soldUsd: USD("2") });
  });

  test("walking in two parts from the stored basis equals walking at once", () => {
    const mints = ["A", "B", "C"];
    const trades: PnlTrade[] = [];
    for (let i = 0; i < 60; i++) {
      const s = mints[i % 3]!;
      const b = mints[(i * 7 + 1) % 3]!;
      trades.push(trade(s, BigInt(1 + ((i * 37) % 11)), b, BigInt(1 + ((i * 13) % 17)), i % 5 ? `${i}.25` : null));
    }
    const whole = walkPnl(trades, new Map());
    for (const cut of [1, 17, 30, 59]) {
      const bases = new Map<string, PnlBasis>();
      const first = walkPnl(trades.slice(0, cut), bases);
      // as the pricing stage reads it back: each pair's newest row's basis
      const stored = new Map<string, PnlBasis>();
      for (const r of first) stored.set(basisKey(r.trader, r.mint), { qty: r.qty, cost: r.cost });
      expect([...first, ...walkPnl(trades.slice(cut), stored)]).toEqual(whole);
    }
    expect(whole.some((r) => r.realizedUsd !== 0n)).toBe(true);
  });
});
