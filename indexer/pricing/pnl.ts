/**
 * Wallet PnL by average cost, pure: walks a range's trades in chain order from each (trader, mint) basis before the
 * range and returns one `wallet_pnl` row per (trade, mint it bought or sold).
 * @dev fixed point at UNIT_SCALE (36 fraction digits), divisions truncated toward zero: a row is the same digits
 * whatever range it was walked in, since the basis is read back as stored.
 */
import { UNIT_SCALE, fromDecimal } from "./compute.js";

/** A priced trade as the walk reads it (amounts raw, the USD value as stored: null while it has none). */
export type PnlTrade = {
  trader: string;
  slot: number;
  txIndex: number;
  blockTime: Date | null;
  soldMint: string;
  soldAmount: bigint;
  boughtMint: string;
  boughtAmount: bigint;
  valueUsd: string | null;
};

/** A basis: the quantity bought at a known USD value and not sold since, and its cost (at UNIT_SCALE). */
export type PnlBasis = { qty: bigint; cost: bigint };

/** One `wallet_pnl` row: a trade's part for one mint, USD at UNIT_SCALE, and the basis after it. */
export type PnlRow = {
  trader: string;
  mint: string;
  slot: number;
  txIndex: number;
  blockTime: Date | null;
  boughtAmount: bigint;
  soldAmount: bigint;
  boughtUsd: bigint;
  soldUsd: bigint;
  realizedUsd: bigint;
} & PnlBasis;

/** The key of a (trader, mint) basis. */
export const basisKey = (trader: string, mint: string): string => `${trader} ${mint}`;

/**
 * Walks `trades` (in slot, tx_index order) from `bases` (updated in place; a missing one is empty). A priced buy adds
 * its amount and value to the basis; a priced sale takes the basis's average cost off the part it covers and realizes
 * that part's proceeds less that cost (a sale beyond the basis, of tokens that came in otherwise, realizes nothing for
 * the excess). A trade without a value counts in amounts only.
 */
export function walkPnl(trades: readonly PnlTrade[], bases: Map<string, PnlBasis>): PnlRow[] {
  const out: PnlRow[] = [];
  for (const t of trades) {
    const v = t.valueUsd == null ? null : fromDecimal(t.valueUsd, UNIT_SCALE);
    const basis = (mint: string) => {
      const k = basisKey(t.trader, mint);
      let b = bases.get(k);
      if (!b) bases.set(k, (b = { qty: 0n, cost: 0n }));
      return b;
    };
    const b = basis(t.boughtMint);
    if (v != null) {
      b.qty += t.boughtAmount;
      b.cost += v;
    }
    const s = basis(t.soldMint);
    let realized = 0n;
    if (v != null && t.soldAmount > 0n) {
      const covered = t.soldAmount < s.qty ? t.soldAmount : s.qty;
      if (covered > 0n) {
        const cost = (s.cost * covered) / s.qty;
        realized = (v * covered) / t.soldAmount - cost;
        s.qty -= covered;
        s.cost -= cost;
      }
    }
    const row = (mint: string, bought: boolean, sold: boolean, after: PnlBasis): PnlRow => ({
      trader: t.trader,
      mint,
      slot: t.slot,
      txIndex: t.txIndex,
      blockTime: t.blockTime,
      boughtAmount: bought ? t.boughtAmount : 0n,
      soldAmount: sold ? t.soldAmount : 0n,
      boughtUsd: bought && v != null ? v : 0n,
      soldUsd: sold && v != null ? v : 0n,
      realizedUsd: sold ? realized : 0n,
      qty: after.qty,
      cost: after.cost,
    });
    if (t.boughtMint === t.soldMint) out.push(row(t.boughtMint, true, true, b));
    else out.push(row(t.boughtMint, true, false, b), row(t.soldMint, false, true, s));
  }
  return out;
}
