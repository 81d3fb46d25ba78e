/**
 * Edits of recorded transactions for the decode tests: one instruction found by its path, the token balances removed.
 * Each edit works on a copy.
 */
import type { RawBlockTransaction, RawCompiledInstruction } from "../../../core/solana-types.js";
import { createTxView } from "../../../indexer/decode/tx-view.js";

/** Without its token balances: what an old or trimmed source gives. */
export function stripped(tx: RawBlockTransaction): RawBlockTransaction {
  const copy = structuredClone(tx);
  copy.meta!.preTokenBalances = [];
  copy.meta!.postTokenBalances = [];
  return copy;
}

/** The instruction at `path` ("3", "3.4.1") as the transaction's JSON holds it (edit it in place). */
export function instructionAt(tx: RawBlockTransaction, path: string): RawCompiledInstruction {
  const top = Number(path.split(".")[0]);
  if (!path.includes(".")) return tx.transaction.message.instructions[top]!;
  // inner instructions are listed in execution order after their top-level one
  const ixs = createTxView(tx).ixs;
  const k = ixs.findIndex((ix) => ix.path === path) - ixs.findIndex((ix) => ix.path === String(top)) - 1;
  return tx.meta!.innerInstructions!.find((g) => g.index === top)!.instructions[k]!;
}
