/**
 * Snapshots: a mint's token accounts read at one slot with getProgramAccounts (memcmp on the mint, withContext), and
 * seeded into the balances tables at that slot, so holders are complete for accounts no stored transaction touched.
 * Uses source and store through their index files; transactions stored after the slot override the seed.
 */
import bs58 from "bs58";
import { TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID } from "../../core/presets.js";
import type { Logger } from "../../core/logger.js";
import type { RpcClient } from "../source/index.js";
import type { Store, TokenSnapshot } from "../store/index.js";

/** What a snapshot did. */
export type SnapshotSummary = {
  mint: string;
  program: TokenSnapshot["program"];
  /** the context slot of the read */
  slot: number;
  /** accounts the read returned */
  accounts: number;
  /** the mint's accounts that hold the snapshot's state afterwards, open and closed */
  seeded: number;
  closed: number;
  durationMs: number;
};

/** Progress of a snapshot: the read, then the seed by chunks of accounts. */
export type SnapshotProgress = { phase: "read" | "seed"; done: number; total: number };

type KeyedAccount = { pubkey: string; account: { data: [string, string]; owner: string } };
type WithContext<T> = { context: { slot: number }; value: T };

const PROGRAMS: Record<string, TokenSnapshot["program"]> = {
  [TOKEN_PROGRAM_ID]: "spl-token",
  [TOKEN_2022_PROGRAM_ID]: "token-2022",
};
/** Owner (32 bytes at 32) and amount (8 bytes at 64): all a snapshot reads of an account. */
const SLICE = { offset: 32, length: 40 };

/** Whether `s` is a base58 public key. */
export function isPubkey(s: string): boolean {
  try {
    return bs58.decode(s).length === 32;
  } catch {
    return false;
  }
}

/**
 * Reads `mint`'s token accounts at one slot and seeds them. The mint account says its program and decimals; its
 * program's accounts are read with `memcmp` on the mint at offset 0 (and `dataSize` 165 for SPL Token, whose
 * accounts have no extensions), owner and amount only (`dataSlice`), with the context slot of the answer.
 */
export async function runSnapshot(
  deps: { rpc: RpcClient; store: Store; logger: Logger },
  mint: string,
  opts: { commitment?: "confirmed" | "finalized"; onProgress?: (p: SnapshotProgress) => void } = {},
): Promise<SnapshotSummary> {
  const started = Date.now();
  const commitment = opts.commitment ?? "finalized";
  const info = await deps.rpc.call<WithContext<{ data: [string, string]; owner: string } | null>>("getAccountInfo", [
    mint,
    { encoding: "base64", commitment, dataSlice: { offset: 0, length: 82 } },
  ]);
  const acct = info?.value;
  if (!acct) throw new Error(`mint ${mint}: no such account at ${commitment}`);
  const program = PROGRAMS[acct.owner];
  if (!program) throw new Error(`mint ${mint}: owned by ${acct.owner}, not a token program`);
  const head = Buffer.from(acct.data[0], "base64");
  if (head.length < 82 || head[45] !== 1) throw new Error(`mint ${mint}: not an initialised mint`);

  opts.onProgress?.({ phase: "read", done: 0, total: 1 });
  const filters: unknown[] = [{ memcmp: { offset: 0, bytes: mint, encoding: "base58" } }];
  if (program === "spl-token") filters.push({ dataSize: 165 });
  const r = await deps.rpc.call<WithContext<KeyedAccount[]>>("getProgramAccounts", [
    acct.owner,
    { encoding: "base64", commitment, withContext: true, filters, dataSlice: SLICE },
  ]);
  if (typeof r?.context?.slot !== "number" || !Array.isArray(r.value))
    throw new Error("getProgramAccounts: the answer has no context slot (the RPC does not support withContext)");
  opts.onProgress?.({ phase: "read", done: 1, total: 1 });
  const accounts: TokenSnapshot["accounts"] = [];
  for (const { pubkey, account } of r.value) {
    const d = Buffer.from(account.data[0], "base64");
    if (d.length < SLICE.length) throw new Error(`getProgramAccounts: account ${pubkey} has ${d.length} bytes`);
    accounts.push({ address: pubkey, owner: bs58.encode(d.subarray(0, 32)), amount: d.readBigUInt64LE(32) });
  }
  const slot = r.context.slot;
  deps.logger.info({ mint, program, slot, accounts: accounts.length }, "snapshot read");
  const seeded = await deps.store.seedTokenAccounts(
    { mint, program, decimals: head[44]!, slot, accounts },
    (done, total) => opts.onProgress?.({ phase: "seed", done, total }),
  );
  return { mint, program, slot, accounts: accounts.length, ...seeded, durationMs: Date.now() - started };
}
