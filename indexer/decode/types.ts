/**
 * Types the decoder's files share. Imports nothing of this module, so no file that needs them closes a cycle.
 */

/** Where a transaction sits. */
export type TxPosition = { slot: number; blockTime: number | null; txIndex: number };
