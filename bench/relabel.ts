/**
 * Decoded blocks written again as new ones: how the ingest and API benches grow a database from a few real blocks.
 */
import type { DecodedBlock } from "../indexer/decode/index.js";

/**
 * Moves decoded block `b`, in place, `slots` slots and `ms` milliseconds later, and gives its transaction k (and each
 * of that transaction's rows, and a pool it created) the signature `signature(k, old)`; `b.slot` is already the
 * new slot when `signature` is called. Row objects shared between transactions are moved once.
 */
export function shiftBlock(
  b: DecodedBlock,
  slots: number,
  ms: number,
  signature: (k: number, old: string) => string,
): void {
  const seen = new Set<object>();
  const first = (o: object) => {
    if (seen.has(o)) return false;
    seen.add(o);
    return true;
  };
  b.slot += slots;
  b.parentSlot += slots;
  if (b.blockTime != null) b.blockTime += ms / 1000;
  b.transactions.forEach((t, k) => {
    const old = t.transaction.signature;
    const sig = signature(k, old);
    for (const r of [
      t.transaction,
      ...t.transfers,
      ...t.swaps,
      ...t.liquidityEvents,
      ...t.programEvents,
      ...t.trades,
    ]) {
      if (!first(r)) continue;
      r.slot += slots;
      if (r.blockTime) r.blockTime = new Date(r.blockTime.getTime() + ms);
      r.signature = sig;
    }
    for (const p of t.pools) {
      if (!first(p)) continue;
      p.firstSeenSlot += slots;
      if (p.createdSlot != null) p.createdSlot += slots;
      if (p.reservesSlot != null) p.reservesSlot += slots;
      if (p.lastSwapSlot != null) p.lastSwapSlot += slots;
      if (p.createdSignature === old) p.createdSignature = sig;
    }
    for (const x of t.tokens) if (first(x)) x.slot += slots;
    for (const x of [...t.tokenAccounts, ...t.wallets]) if (first(x)) x.slot += slots;
  });
}

/**
 * Every field of decoded block `b` that names an account as a wallet or token account, as [row, key] pairs, each
 * once: signers and fee payers, traders, liquidity owners, transfers' token accounts and their owners, and the
 * balances' token accounts, owners and wallets. Mints, pools (and their vaults) and programs are not among them.
 * Row objects shared between transactions are listed once.
 */
export function accountFields(b: DecodedBlock): [Record<string, unknown>, string][] {
  const out: [Record<string, unknown>, string][] = [];
  const seen = new Set<object>();
  const add = (row: object, ...keys: string[]) => {
    if (seen.has(row)) return;
    seen.add(row);
    for (const k of keys) out.push([row as Record<string, unknown>, k]);
  };
  for (const t of b.transactions) {
    add(t.transaction, "feePayer");
    for (const r of t.transfers) add(r, "source", "destination", "sourceOwner", "destinationOwner");
    for (const r of t.swaps) add(r, "trader");
    for (const r of t.trades) add(r, "trader");
    for (const r of t.liquidityEvents) add(r, "owner");
    for (const r of t.tokenAccounts) add(r, "address", "owner");
    for (const r of t.wallets) add(r, "address");
  }
  return out;
}

/** Gives, in place, every account decoded block `b` names (see accountFields) the address `rename(old)`. */
export function relabelAccounts(b: DecodedBlock, rename: (address: string) => string): void {
  for (const [row, key] of accountFields(b)) {
    const a = row[key];
    if (typeof a === "string") row[key] = rename(a);
  }
}
