/** Oracles read from the chain itself, independent of slotline's decoder. */
import { Connection, type VersionedTransactionResponse } from "@solana/web3.js";
import { PRESET_NAMES, VOTE_PROGRAM_ID, resolvePrograms } from "../../core/presets.js";
import type { Chain } from "../../devchain/index.js";

const TRACKED = new Set(resolvePrograms(PRESET_NAMES));

/** Every program id a transaction invokes, top level or inner, from its own message and meta. */
export function invokedPrograms(tx: VersionedTransactionResponse): string[] {
  // Static keys, then the lookup tables' writable and readonly keys, as the runtime orders them.
  const loaded = tx.meta?.loadedAddresses;
  const keys = [
    ...tx.transaction.message.staticAccountKeys,
    ...(loaded?.writable ?? []),
    ...(loaded?.readonly ?? []),
  ].map((k) => k.toBase58());
  const top = tx.transaction.message.compiledInstructions.map((ix) => keys[ix.programIdIndex]!);
  const inner = (tx.meta?.innerInstructions ?? []).flatMap((g) => g.instructions.map((ix) => keys[ix.programIdIndex]!));
  return [...new Set([...top, ...inner])];
}

/** The recorded history's signatures that invoke a tracked program, and those of vote transactions, via web3.js. */
export async function trackedHistory(chain: Chain): Promise<{ tracked: Set<string>; votes: Set<string> }> {
  const conn = new Connection(chain.rpcUrl, "confirmed");
  const tracked = new Set<string>();
  const votes = new Set<string>();
  const sigs = chain.history.signatures;
  for (let i = 0; i < sigs.length; i += 100) {
    const txs = await conn.getTransactions(sigs.slice(i, i + 100), {
      maxSupportedTransactionVersion: 0,
      commitment: "confirmed",
    });
    for (const tx of txs) {
      if (!tx) continue;
      const programs = invokedPrograms(tx);
      if (programs.some((p) => TRACKED.has(p))) tracked.add(tx.transaction.signatures[0]!);
      if (programs.includes(VOTE_PROGRAM_ID)) votes.add(tx.transaction.signatures[0]!);
    }
  }
  return { tracked, votes };
}
