/**
 * The two oracles of issue 4, comparing decoded rows with the chain's accounting of the same transaction.
 * Each returns the mismatches as readable strings (empty = the decode agrees with the chain).
 */
import type { DecodedTransaction } from "../../../indexer/decode/index.js";
import type { RawBlockTransaction } from "../../../core/solana-types.js";
import { lamportDelta, tokenDeltas } from "./chain-accounting.js";

const WSOL = "So11111111111111111111111111111111111111112";

/** Per token account (wrapped SOL excepted): transfers in - out + mints - burns == its balance delta. */
export function tokenAccountMismatches(tx: RawBlockTransaction, d: DecodedTransaction): string[] {
  const decoded = new Map<string, bigint>();
  const wsolAccounts = new Set<string>();
  for (const t of d.transfers) {
    const add = (k: string | null | undefined, v: bigint) => {
      if (!k) return;
      decoded.set(k, (decoded.get(k) ?? 0n) + v);
      if (t.mint === WSOL) wsolAccounts.add(k);
    };
    if (t.kind === "transfer") {
      add(t.source, -t.amount);
      add(t.destination, t.amount - (t.fee ?? 0n));
    } else if (t.kind === "mint") add(t.destination, t.amount);
    else add(t.source, -t.amount);
  }
  const out: string[] = [];
  const chain = tokenDeltas(tx);
  for (const [account, { mint, delta }] of chain) {
    if (mint === WSOL) continue;
    const got = decoded.get(account) ?? 0n;
    if (got !== delta) out.push(`${account} (${mint}): decoded ${got}, chain ${delta}`);
  }
  // a decoded movement on an account the chain shows no balance for is wrong too
  for (const [account, v] of decoded)
    if (!chain.has(account) && !wsolAccounts.has(account) && v !== 0n)
      out.push(`${account}: decoded ${v}, not in token balances`);
  return out;
}

/** Per pool: sum(amount_in) - sum(amount_out) + adds - removes, per mint, == its vault's delta. */
export function poolMismatches(tx: RawBlockTransaction, d: DecodedTransaction): string[] {
  const chain = tokenDeltas(tx);
  const out: string[] = [];
  for (const p of d.pools) {
    const byMint = new Map<string, bigint>();
    const add = (mint: string, v: bigint) => byMint.set(mint, (byMint.get(mint) ?? 0n) + v);
    for (const s of d.swaps) {
      if (s.pool !== p.address) continue;
      add(s.mintIn, s.amountIn);
      add(s.mintOut, -s.amountOut);
    }
    for (const l of d.liquidityEvents) {
      if (l.pool !== p.address) continue;
      const sign = l.kind === "add" ? 1n : -1n;
      add(p.mintA, sign * l.amountA);
      add(p.mintB, sign * l.amountB);
    }
    for (const [vault, mint] of [
      [p.vaultA, p.mintA],
      [p.vaultB, p.mintB],
    ] as const) {
      // a vault that is not a token account holds SOL (pump.fun's bonding curve): its lamports are the balance
      const want = chain.get(vault)?.delta ?? lamportDelta(tx, vault);
      const got = byMint.get(mint) ?? 0n;
      if (got !== want) out.push(`${p.dex} pool ${p.address} vault ${vault} (${mint}): decoded ${got}, chain ${want}`);
    }
  }
  return out;
}
