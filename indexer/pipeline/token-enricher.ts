/**
 * Token lookups: a mint seen for the first time is read with getMultipleAccounts (batched) for decimals,
 * supply and authorities, and its Metaplex metadata account for name, symbol and uri; a Token-2022 mint that keeps
 * them in its own TokenMetadata extension (Pump.fun's createV2 does) gets them from there.
 */
import { PublicKey } from "@solana/web3.js";
import type { Context } from "../../core/context.js";
import type { DecodedBlock } from "../decode/index.js";
import type { Logger } from "../../core/logger.js";
import type { RpcClient } from "../source/index.js";
import { cleanText, type Store } from "../store/index.js";

const METAPLEX_PROGRAM = new PublicKey("metaqbxxUerdq28cj1RbAWkYQm3ybzjb6a8bt518x1s");
/** getMultipleAccounts takes at most 100 keys. */
const MAX_KEYS = 100;
const KNOWN_CAP = 200_000;
/**
 * A stored mint never read by the enricher: no supply, or only the one its initialisation in stored history gave it
 * (0 before the slot it was initialised in, so its supply_slot is below its first seen slot), without a lookup of
 * its metadata.
 */
const NOT_LOOKED_UP = "(supply is null or supply_slot is null or supply_slot < first_seen_slot)";

type AccountInfo = { data: [string, string]; owner: string } | null;

/** Decoded base mint layout (SPL Token and Token-2022 share its first 82 bytes). */
export type MintInfo = {
  supply: bigint;
  decimals: number;
  mintAuthority: string | null;
  freezeAuthority: string | null;
};

/** Parses a mint account's first 82 bytes; null when the data is too short or not initialised. */
export function parseMint(data: Buffer): MintInfo | null {
  if (data.length < 82 || data[45] !== 1) return null;
  const key = (hasOffset: number, keyOffset: number) =>
    data.readUInt32LE(hasOffset) === 1 ? new PublicKey(data.subarray(keyOffset, keyOffset + 32)).toBase58() : null;
  return {
    mintAuthority: key(0, 4),
    supply: data.readBigUInt64LE(36),
    decimals: data[44]!,
    freezeAuthority: key(46, 50),
  };
}

/** Name, symbol and uri of a token. */
export type TokenMetadataFields = { name: string; symbol: string; uri: string };

/** Parses name, symbol and uri from a Metaplex metadata account (borsh strings, NUL-padded). */
export function parseMetadata(data: Buffer): TokenMetadataFields | null {
  // key (1), update authority (32), mint (32), then the strings
  return borshStrings(data, 1 + 32 + 32);
}

/** The base size of an SPL account: Token-2022 pads a mint with extensions to it, then writes its AccountType. */
const ACCOUNT_BASE = 165;
/** Token-2022's AccountType of a mint. */
const ACCOUNT_TYPE_MINT = 1;
/** spl-token-2022 ExtensionType values read here. */
export const EXTENSION = { metadataPointer: 18, tokenMetadata: 19 } as const;

/**
 * The TLV extensions of a Token-2022 mint account, by ExtensionType: after the 165-byte base and the AccountType
 * byte, entries of type (u16 LE), length (u16 LE) and value, up to the first Uninitialized (0) entry.
 */
export function mintExtensions(data: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  if (data.length <= ACCOUNT_BASE || data[ACCOUNT_BASE] !== ACCOUNT_TYPE_MINT) return out;
  for (let o = ACCOUNT_BASE + 1; o + 4 <= data.length; ) {
    const type = data.readUInt16LE(o);
    const len = data.readUInt16LE(o + 2);
    if (type === 0 || o + 4 + len > data.length) break;
    out.set(type, data.subarray(o + 4, o + 4 + len));
    o += 4 + len;
  }
  return out;
}

/**
 * Name, symbol and uri from a Token-2022 mint's TokenMetadata extension (spl-token-metadata-interface's
 * TokenMetadata: update authority (32), mint (32), then name, symbol and uri as borsh strings), or null.
 */
export function parseTokenMetadataExtension(mintData: Buffer): TokenMetadataFields | null {
  const v = mintExtensions(mintData).get(EXTENSION.tokenMetadata);
  return v ? borshStrings(v, 32 + 32) : null;
}

/** Whether a Token-2022 mint's MetadataPointer names the mint itself (its own TokenMetadata is the canonical one). */
function pointsToItself(mintData: Buffer, mint: string): boolean {
  const v = mintExtensions(mintData).get(EXTENSION.metadataPointer);
  return v !== undefined && v.length >= 64 && new PublicKey(v.subarray(32, 64)).toBase58() === mint;
}

/** Three borsh strings (u32 LE length, UTF-8) from `start`, cleaned of NUL padding; null when malformed. */
function borshStrings(data: Buffer, start: number): TokenMetadataFields | null {
  try {
    let o = start;
    const str = () => {
      const len = data.readUInt32LE(o);
      if (len > 1000 || o + 4 + len > data.length) throw new Error("bad length");
      const s = cleanText(data.subarray(o + 4, o + 4 + len).toString("utf8")).trim();
      o += 4 + len;
      return s;
    };
    return { name: str(), symbol: str(), uri: str() };
  } catch {
    return null;
  }
}

/**
 * Creates the enricher. It remembers the mints it has filled in, so each costs one lookup per process; `sweep()`
 * picks up mints a crashed worker stored but never looked up, and mints whose rows a rollback deleted and
 * re-indexing stored again without supply.
 */
export function createTokenEnricher(deps: Pick<Context, "db"> & { rpc: RpcClient; logger: Logger; store: Store }) {
  const known = new Set<string>();

  async function lookUp(mints: string[]): Promise<number> {
    let updated = 0;
    for (let i = 0; i < mints.length; i += MAX_KEYS / 2) {
      const chunk = mints.slice(i, i + MAX_KEYS / 2);
      const metaKeys = chunk.map((m) =>
        PublicKey.findProgramAddressSync(
          [Buffer.from("metadata"), METAPLEX_PROGRAM.toBuffer(), new PublicKey(m).toBuffer()],
          METAPLEX_PROGRAM,
        )[0].toBase58(),
      );
      const res = await deps.rpc.call<{ context?: { slot?: number }; value: AccountInfo[] }>("getMultipleAccounts", [
        [...chunk, ...metaKeys],
        { encoding: "base64", commitment: "confirmed" },
      ]);
      const values = res?.value ?? [];
      // the slot the accounts were read at: the supply is exact from there on (mints and burns stored after it)
      const slot = res?.context?.slot;
      if (typeof slot !== "number") throw new Error("getMultipleAccounts: the answer has no context slot");
      const filled: Parameters<Store["fillTokens"]>[0] = [];
      for (const [k, mint] of chunk.entries()) {
        const acct = values[k];
        const info = acct ? parseMint(Buffer.from(acct.data[0], "base64")) : null;
        if (!info) continue;
        const metaAcct = values[chunk.length + k];
        const metaplex =
          metaAcct && metaAcct.owner === METAPLEX_PROGRAM.toBase58()
            ? parseMetadata(Buffer.from(metaAcct.data[0], "base64"))
            : null;
        // A Token-2022 mint may keep its metadata in itself; when its pointer says so, that copy is the canonical one
        const data = Buffer.from(acct!.data[0], "base64");
        const own = parseTokenMetadataExtension(data);
        const meta = own && (pointsToItself(data, mint) || !metaplex) ? own : metaplex;
        filled.push({
          mint,
          lookup: { ...info, slot, name: meta?.name || null, symbol: meta?.symbol || null, uri: meta?.uri || null },
        });
      }
      await deps.store.fillTokens(filled);
      for (const f of filled) known.add(f.mint);
      updated += filled.length;
    }
    if (known.size > KNOWN_CAP) known.clear();
    return updated;
  }

  /** Of `mints`, those stored and never looked up. */
  async function notLookedUp(mints: string[]): Promise<string[]> {
    const r = await deps.db.$client.query<{ mint: string }>(
      `select mint from tokens where mint = any($1::text[]) and ${NOT_LOOKED_UP}`,
      [mints],
    );
    return r.rows.map((x) => x.mint);
  }

  return {
    /** Looks up the batch's mints that have no supply yet. */
    async enrich(blocks: DecodedBlock[]): Promise<number> {
      const seen = new Set<string>();
      for (const b of blocks)
        for (const t of b.transactions) for (const tk of t.tokens) if (!known.has(tk.mint)) seen.add(tk.mint);
      if (seen.size === 0) return 0;
      return lookUp(await notLookedUp([...seen]));
    },
    /** Looks up those of `mints` that are stored and have no supply yet (a snapshot's mint). */
    async enrichMints(mints: string[]): Promise<number> {
      return lookUp(await notLookedUp(mints));
    },
    /** Looks up up to `limit` stored mints that still have no supply. */
    async sweep(limit = 100): Promise<number> {
      const r = await deps.db.$client.query<{ mint: string }>(
        `select mint from tokens where ${NOT_LOOKED_UP} order by first_seen_slot desc limit $1`,
        [limit],
      );
      // A mint filled in before and unfilled now had its row deleted and stored again (a fork's rollback): the
      // memory is stale, so it is looked up again.
      const mints = r.rows.map((x) => x.mint);
      for (const m of mints) known.delete(m);
      return lookUp(mints);
    },
  };
}
