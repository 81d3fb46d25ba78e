/**
 * Balances of one transaction, read from its own meta: every token account's state after it (postTokenBalances;
 * an account in preTokenBalances and absent from postTokenBalances was closed), and the lamports of its signers
 * (postBalances). The chain's own accounting: nothing here is inferred from instructions.
 * @dev pure; amounts and lamports are bigint. Lamports are converted in `lamportsOf` only, whatever the source's
 * type for them.
 */
import type { TokenAccountState, TokenSeen, WalletState } from "../../core/decoded.js";
import type { RawBlockTransaction } from "../../core/solana-types.js";
import { TOKEN_2022_PROGRAM_ID } from "../../core/presets.js";
import type { TokenEffect } from "./programs/token-program/index.js";
import type { TxView } from "./tx-view.js";
import type { TxPosition } from "./types.js";

/** A lamport balance as the source gives it (a JSON number today, a bigint or decimal text when parsed losslessly). */
export const lamportsOf = (v: number | bigint | string): bigint => BigInt(v);

/** The token program's name in the data model; an entry without programId (old ledger data) is SPL Token. */
const programOf = (programId: string | undefined): TokenSeen["program"] =>
  programId === TOKEN_2022_PROGRAM_ID ? "token-2022" : "spl-token";

/** Each token account the transaction's balances name, as of after the transaction, in account-index order. */
export function tokenAccountStates(view: TxView, at: TxPosition): TokenAccountState[] {
  const out: TokenAccountState[] = [];
  const indexes = [...view.tokenAccounts.keys()].sort((a, b) => a - b);
  for (const i of indexes) {
    const t = view.tokenAccounts.get(i)!;
    const address = view.keys[i];
    // an index past the key list (lookup-table entries lost upstream) names no account
    if (address === undefined) continue;
    out.push({
      address,
      mint: t.mint,
      owner: t.owner ?? null,
      program: programOf(t.programId),
      amount: t.hasPost ? t.post : 0n,
      slot: at.slot,
      txIndex: at.txIndex,
      closed: !t.hasPost,
    });
  }
  return out;
}

/** The lamports of every signer (the message's first numRequiredSignatures keys) after the transaction. */
export function signerLamports(tx: RawBlockTransaction, view: TxView, at: TxPosition): WalletState[] {
  const n = tx.transaction.message.header?.numRequiredSignatures ?? 0;
  const out: WalletState[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < n && i < view.keys.length; i++) {
    const address = view.keys[i]!;
    const v = view.postLamports[i];
    if (v === undefined || v === null || seen.has(address)) continue;
    seen.add(address);
    out.push({ address, lamports: lamportsOf(v), slot: at.slot, txIndex: at.txIndex });
  }
  return out;
}

/**
 * Marks the tokens the transaction initialises (initializeMint*): their supply was 0 before it, which is where an
 * exact supply of a mint created in indexed history starts.
 */
export function markInitialized(
  tokens: TokenSeen[],
  view: TxView,
  effects: readonly { effect: TokenEffect; programId: string }[],
): void {
  for (const { effect } of effects) {
    if (effect.type !== "initMint" || effect.mint === undefined) continue;
    const mint = view.keys[effect.mint];
    const t = mint === undefined ? undefined : tokens.find((x) => x.mint === mint);
    if (t) t.initialized = true;
  }
}
