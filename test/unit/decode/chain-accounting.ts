/**
 * The chain's own accounting, read straight from a transaction's meta (no decoder involved): token balance
 * deltas per account, lamport deltas, and the lamports System createAccount funded accounts with.
 */
import bs58 from "bs58";
import { accountKeys } from "../../../indexer/decode/tx-view.js";
import type { RawBlockTransaction, RawCompiledInstruction } from "../../../core/solana-types.js";

/** Token balance delta (post - pre, a missing side counting as 0) per token account address. */
export function tokenDeltas(
  tx: RawBlockTransaction,
): Map<string, { mint: string; delta: bigint; owner: string | undefined }> {
  const keys = accountKeys(tx);
  const out = new Map<string, { mint: string; delta: bigint; owner: string | undefined }>();
  const entry = (i: number, mint: string, owner: string | undefined) => {
    const k = keys[i]!;
    let e = out.get(k);
    if (!e) out.set(k, (e = { mint, delta: 0n, owner }));
    if (owner) e.owner = owner;
    return e;
  };
  for (const b of tx.meta?.preTokenBalances ?? [])
    entry(b.accountIndex, b.mint, b.owner).delta -= BigInt(b.uiTokenAmount.amount);
  for (const b of tx.meta?.postTokenBalances ?? [])
    entry(b.accountIndex, b.mint, b.owner).delta += BigInt(b.uiTokenAmount.amount);
  return out;
}

/** Every instruction of the transaction, top level and inner, with its program id. */
export function allInstructions(
  tx: RawBlockTransaction,
): { programId: string; ix: RawCompiledInstruction; accounts: string[] }[] {
  const keys = accountKeys(tx);
  const inner = new Map((tx.meta?.innerInstructions ?? []).map((g) => [g.index, g.instructions]));
  return tx.transaction.message.instructions.flatMap((ix, i) =>
    [ix, ...(inner.get(i) ?? [])].map((x) => ({
      programId: keys[x.programIdIndex]!,
      ix: x,
      accounts: x.accounts.map((a) => keys[a]!),
    })),
  );
}

/** Lamport delta of an account, minus what System createAccount funded it with in this transaction. */
export function lamportDelta(tx: RawBlockTransaction, address: string): bigint {
  const keys = accountKeys(tx);
  const i = keys.indexOf(address);
  if (i < 0 || !tx.meta) return 0n;
  let created = 0n;
  for (const { programId, ix, accounts } of allInstructions(tx)) {
    if (programId !== "11111111111111111111111111111111" || accounts[1] !== address) continue;
    const b = bs58.decode(ix.data);
    if (b.length >= 12 && b[0] === 0 && b[1] === 0 && b[2] === 0 && b[3] === 0)
      created += new DataView(b.buffer, b.byteOffset).getBigUint64(4, true);
  }
  return BigInt(tx.meta.postBalances[i]!) - BigInt(tx.meta.preBalances[i]!) - created;
}
