/**
 * Search by mint, pool, wallet or signature: a signature (64 bytes, 86-88 base58 characters) opens its transaction;
 * an address opens the token or pool it names, the wallet owning the token account it names, or else the wallet.
 */
import { gql } from "../api.js";
import { SEARCH_ADDRESS } from "../queries.js";

const BASE58 = /^[1-9A-HJ-NP-Za-km-z]+$/;

/** The route a search string leads to, or null when it is no address or signature. */
export async function searchRoute(q: string, signal?: AbortSignal): Promise<string | null> {
  const s = q.trim();
  if (!BASE58.test(s)) return null;
  if (s.length >= 80 && s.length <= 90) return `tx/${s}`;
  if (s.length < 32 || s.length > 44) return null;
  const r = await gql<{ token: unknown; pool: unknown; tokenAccount: { owner: string | null } | null }>(
    SEARCH_ADDRESS,
    { q: s },
    signal,
  );
  if (r.token) return `token/${s}`;
  if (r.pool) return `pool/${s}`;
  if (r.tokenAccount?.owner) return `wallet/${r.tokenAccount.owner}`;
  return `wallet/${s}`;
}
