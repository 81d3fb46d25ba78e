/**
 * Direction of every decoded swap, pinned against the chain's own accounting: the pool's vault of `mintIn` gained
 * and its vault of `mintOut` lost, amounts are never negative and the two mints differ. The per-mint oracles sum
 * in minus out, which a swap stored backwards (input and output exchanged, both amounts negated) also satisfies.
 */
import { describe, expect, test } from "vitest";
import { createDecoder } from "../../../indexer/decode/index.js";
import { PRESET_NAMES } from "../../../core/presets.js";
import { tokenDeltas } from "./chain-accounting.js";
import { allFixtureTxs } from "./fixture-txs.js";
import { shared } from "./shared.js";

const decoder = shared(() => createDecoder({ programs: [...PRESET_NAMES] }));

describe("decoded swaps: direction", () => {
  const decoded = shared(() =>
    allFixtureTxs().flatMap((f) => {
      const d = decoder().decodeTransaction(f.tx, { slot: f.slot, blockTime: f.blockTime, txIndex: f.txIndex });
      return d && d.swaps.length ? [{ f, d }] : [];
    }),
  );

  test("amounts are never negative and a swap's two mints differ", () => {
    const swaps = decoded().flatMap(({ d }) => d.swaps);
    expect(swaps.length).toBeGreaterThan(200);
    for (const s of swaps) {
      expect(s.amountIn >= 0n && s.amountOut >= 0n, `${s.signature} ${s.instructionPath}`).toBe(true);
      expect(s.mintIn, `${s.signature} ${s.instructionPath}`).not.toBe(s.mintOut);
    }
  });

  test("the vault of mintIn gained and the vault of mintOut lost, where the pool swapped once in the transaction", () => {
    let checked = 0;
    for (const { f, d } of decoded()) {
      const deltas = tokenDeltas(f.tx);
      const perPool = new Map<string, number>();
      for (const s of d.swaps) perPool.set(s.pool, (perPool.get(s.pool) ?? 0) + 1);
      const touched = new Set(d.liquidityEvents.map((l) => l.pool));
      for (const s of d.swaps) {
        const pool = d.pools.find((p) => p.address === s.pool);
        // one swap and no liquidity change on the pool: its vaults' whole-transaction deltas are this swap's
        if (!pool || perPool.get(s.pool) !== 1 || touched.has(s.pool) || f.tx.meta?.err) continue;
        const vaultIn = s.mintIn === pool.mintA ? pool.vaultA : pool.vaultB;
        const vaultOut = s.mintIn === pool.mintA ? pool.vaultB : pool.vaultA;
        const din = deltas.get(vaultIn);
        const dout = deltas.get(vaultOut);
        // native SOL vaults (a bonding curve's lamports) carry no token balance: their side is not checked here
        const where = `${s.signature} ${s.instructionPath} (${s.dex})`;
        if (din && s.amountIn > 0n) {
          expect(din.mint, where).toBe(s.mintIn);
          expect(din.delta > 0n, `${where}: vault of mintIn moved ${din.delta}`).toBe(true);
          checked++;
        }
        if (dout && s.amountOut > 0n) {
          expect(dout.mint, where).toBe(s.mintOut);
          expect(dout.delta < 0n, `${where}: vault of mintOut moved ${dout.delta}`).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(300);
  });
});

describe("decoded liquidity events: kind and sign", () => {
  const decoded = shared(() =>
    allFixtureTxs().flatMap((f) => {
      if (f.tx.meta?.err) return [];
      const d = decoder().decodeTransaction(f.tx, { slot: f.slot, blockTime: f.blockTime, txIndex: f.txIndex });
      return d && d.liquidityEvents.length ? [{ f, d }] : [];
    }),
  );

  test("an add is what the pool's vaults gained and a remove what they paid, both as non-negative amounts", () => {
    const kinds = new Set<string>();
    let checked = 0;
    for (const { f, d } of decoded()) {
      const deltas = tokenDeltas(f.tx);
      for (const l of d.liquidityEvents) {
        const where = `${l.signature} ${l.instructionPath} ${l.kind}`;
        const pool = d.pools.find((p) => p.address === l.pool)!;
        // the pool moved once in the transaction: its vaults' whole-transaction deltas are this event's
        const once =
          d.liquidityEvents.filter((x) => x.pool === l.pool).length === 1 && !d.swaps.some((s) => s.pool === l.pool);
        const a = deltas.get(pool.vaultA)?.delta;
        const b = deltas.get(pool.vaultB)?.delta;
        if (!once || a === undefined || b === undefined) continue;
        // one-sided or both sides the same way: the kind follows the vaults
        if (a >= 0n && b >= 0n && a + b > 0n) expect(l.kind, where).toBe("add");
        if (a <= 0n && b <= 0n && a + b < 0n) expect(l.kind, where).toBe("remove");
        const sign = l.kind === "add" ? 1n : -1n;
        expect(l.amountA, where).toBe(sign * a);
        expect(l.amountB, where).toBe(sign * b);
        if ((a >= 0n && b >= 0n) || (a <= 0n && b <= 0n)) {
          expect(l.amountA! >= 0n && l.amountB! >= 0n, where).toBe(true);
        }
        kinds.add(l.kind);
        checked++;
      }
    }
    expect([...kinds].sort()).toEqual(["add", "remove"]);
    expect(checked).toBeGreaterThan(10);
  });
});
