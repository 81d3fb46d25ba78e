/** LiteSVM-executed token activity (placeholder until implemented). */
import type { AccountStore } from "./accounts.js";
import type { TxRecord } from "./tx-record.js";

/** Creates the activity generator. */
export function createSvmActivity(_deps: { accounts: AccountStore; txPerSlot: number }): { next(slot: number, blockhash: string): TxRecord[] } {
  throw new Error("--svm-activity is not implemented yet");
}
