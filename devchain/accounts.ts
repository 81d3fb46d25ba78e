/**
 * Account state served by getAccountInfo / getMultipleAccounts: mints derived from recorded token
 * balances (decimals, owner program, supply as the sum of the last seen balances) and the live
 * accounts of LiteSVM activity.
 * @dev Derived mints carry no authorities. Their supply moves with the mints and burns of the blocks produced
 * (mint-supply.ts), and accounts LiteSVM sets keep their state per slot, so a read at a commitment sees the state
 * as of that commitment's slot.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import bs58 from "bs58";
import type { TxRecord } from "./tx-record.js";

export const TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
export const TOKEN_2022_PROGRAM = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb";

/** One account as the RPC serves it. */
export type StoredAccount = { lamports: number; owner: string; data: Buffer; executable: boolean; rentEpoch: bigint };

/** Mutable account store keyed by base58 pubkey. */
export type AccountStore = {
  /** The account as of `slot` (its newest state without one). */
  get(pubkey: string, slot?: number): StoredAccount | undefined;
  /** Sets the account's state from `slot` on (for good without one). */
  set(pubkey: string, account: StoredAccount | null, slot?: number): void;
  /**
   * Records the mints seen in recorded token balances. A mint that `initialized` names was created in the recorded
   * history: its supply starts at 0 there and is the sum of its mints and burns; any other starts at the sum of its
   * last seen balances (a lower bound, its history before the recordings being unknown).
   */
  addMintsFrom(txs: Iterable<TxRecord>, initialized?: ReadonlySet<string>): void;
  /** How a derived mint's supply moved up to a slot (mints less burns in the blocks produced so far). */
  trackSupply(changeUpTo: (mint: string, slot: number) => bigint): void;
  /** Every account in its newest state, as [pubkey, account]. */
  entries(): IterableIterator<[string, StoredAccount]>;
  size(): number;
};

/** States kept per account: enough for any read at a commitment slot (finality lags by 32 slots). */
const VERSIONS_KEPT = 256;

const U64_MAX = 18446744073709551615n;
const MINT_RENT = 1461600;

/** Creates an empty store. */
export function createAccountStore(): AccountStore {
  const map = new Map<string, StoredAccount>();
  // States set at a slot (LiteSVM activity), oldest first: a read at a commitment below the newest slot sees the
  // account as of that slot, as a node's bank at that commitment would.
  const versions = new Map<string, { slot: number; account: StoredAccount | null }[]>();
  const derived = new Set<string>();
  let supplyChange: ((mint: string, slot: number) => bigint) | undefined;
  return {
    get(k, slot) {
      const vs = versions.get(k);
      let a: StoredAccount | undefined;
      if (vs && slot !== undefined) {
        let i = vs.length - 1;
        while (i >= 0 && vs[i]!.slot > slot) i--;
        a = i >= 0 ? (vs[i]!.account ?? undefined) : undefined;
      } else a = map.get(k);
      if (!a || slot === undefined || !supplyChange || !derived.has(k)) return a;
      const change = supplyChange(k, slot);
      if (change === 0n) return a;
      let supply = a.data.readBigUInt64LE(36) + change;
      if (supply < 0n) supply = 0n;
      const data = Buffer.from(a.data);
      data.writeBigUInt64LE(supply & U64_MAX, 36);
      return { ...a, data };
    },
    set(k, a, slot) {
      const gone = a === null || a.lamports === 0;
      if (gone) map.delete(k);
      else map.set(k, a);
      derived.delete(k);
      if (slot === undefined) {
        versions.delete(k);
        return;
      }
      let vs = versions.get(k);
      if (!vs) versions.set(k, (vs = []));
      if (vs.length > 0 && vs[vs.length - 1]!.slot === slot) vs.pop();
      vs.push({ slot, account: gone ? null : a });
      if (vs.length > VERSIONS_KEPT) vs.splice(0, vs.length - VERSIONS_KEPT);
    },
    trackSupply(fn) {
      supplyChange = fn;
    },
    size: () => map.size,
    entries: () => map.entries(),
    addMintsFrom(txs, initialized) {
      const mints = new Map<string, { decimals: number; program: string; balances: Map<number | string, bigint> }>();
      for (const t of txs) {
        const meta = t.raw.meta;
        for (const list of [meta?.preTokenBalances, meta?.postTokenBalances]) {
          for (const tb of list ?? []) {
            let m = mints.get(tb.mint);
            if (!m)
              mints.set(
                tb.mint,
                (m = {
                  decimals: tb.uiTokenAmount.decimals,
                  program: tb.programId ?? TOKEN_PROGRAM,
                  balances: new Map(),
                }),
              );
            const account = t.accountKeys[tb.accountIndex] ?? tb.accountIndex;
            m.balances.set(account, BigInt(tb.uiTokenAmount.amount));
          }
        }
      }
      for (const [mint, m] of mints) {
        if (map.has(mint)) continue;
        let supply = 0n;
        if (!initialized?.has(mint)) for (const v of m.balances.values()) supply += v;
        derived.add(mint);
        map.set(mint, {
          lamports: MINT_RENT,
          owner: m.program,
          data: mintData(supply, m.decimals),
          executable: false,
          rentEpoch: U64_MAX,
        });
      }
    },
  };
}

/** SPL Token mint layout (82 bytes) with no authorities. */
function mintData(supply: bigint, decimals: number): Buffer {
  const b = Buffer.alloc(82);
  b.writeBigUInt64LE(supply & U64_MAX, 36);
  b[44] = decimals;
  b[45] = 1;
  return b;
}

/** Serializes an account for the given encoding (web3.js sends base64), or an error message. */
export function encodeAccount(
  a: StoredAccount,
  encoding: string,
  slice: { offset: number; length: number } | undefined,
  mintDecimals: (mint: string) => number | undefined,
): string | { code: number; message: string } {
  let data = a.data;
  if (slice && encoding !== "jsonParsed") data = data.subarray(slice.offset, slice.offset + slice.length);
  let dataJson: string;
  switch (encoding) {
    case "base64":
      dataJson = `["${data.toString("base64")}","base64"]`;
      break;
    case "base58":
    case "binary":
      if (data.length > 128) {
        return {
          code: -32600,
          message: "Encoded binary (base 58) data should be less than 128 bytes, please use Base64 encoding.",
        };
      }
      dataJson = encoding === "binary" ? `"${bs58.encode(data)}"` : `["${bs58.encode(data)}","base58"]`;
      break;
    case "jsonParsed": {
      const parsed = parseToken(a, mintDecimals);
      dataJson = parsed ?? `["${data.toString("base64")}","base64"]`;
      break;
    }
    default:
      return { code: -32602, message: `Invalid params: unsupported encoding: ${encoding}` };
  }
  return `{"data":${dataJson},"executable":${a.executable},"lamports":${a.lamports},"owner":"${a.owner}","rentEpoch":${a.rentEpoch},"space":${a.data.length}}`;
}

function parseToken(a: StoredAccount, mintDecimals: (mint: string) => number | undefined): string | undefined {
  if (a.owner !== TOKEN_PROGRAM && a.owner !== TOKEN_2022_PROGRAM) return undefined;
  const program = a.owner === TOKEN_PROGRAM ? "spl-token" : "spl-token-2022";
  const d = a.data;
  const key = (o: number): string => bs58.encode(d.subarray(o, o + 32));
  const opt = (o: number): string | null => (d.readUInt32LE(o) === 1 ? key(o + 4) : null);
  let parsed: unknown;
  if (d.length === 82 || (d.length > 165 && d[165] === 1)) {
    parsed = {
      type: "mint",
      info: {
        decimals: d[44],
        freezeAuthority: opt(46),
        isInitialized: d[45] === 1,
        mintAuthority: opt(0),
        supply: d.readBigUInt64LE(36).toString(),
      },
    };
  } else if (d.length >= 165) {
    const mint = key(0);
    const decimals = mintDecimals(mint) ?? 0;
    const amount = d.readBigUInt64LE(64);
    const state = ["uninitialized", "initialized", "frozen"][d[108]!] ?? "initialized";
    parsed = {
      type: "account",
      info: {
        isNative: d.readUInt32LE(109) === 1,
        mint,
        owner: key(32),
        state,
        tokenAmount: uiAmount(amount, decimals),
      },
    };
  } else return undefined;
  return JSON.stringify({ program, parsed, space: d.length });
}

/** `uiTokenAmount` as Agave formats it. */
export function uiAmount(
  amount: bigint,
  decimals: number,
): { amount: string; decimals: number; uiAmount: number | null; uiAmountString: string } {
  const s = amount.toString().padStart(decimals + 1, "0");
  const whole = s.slice(0, s.length - decimals);
  const frac = s.slice(s.length - decimals).replace(/0+$/, "");
  const uiAmountString = frac ? `${whole}.${frac}` : whole;
  return { amount: amount.toString(), decimals, uiAmount: Number(uiAmountString), uiAmountString };
}

/**
 * Recorded mint accounts (their real bytes: authorities, supply, Token-2022 extensions such as TokenMetadata) from
 * recorded getMultipleAccounts answers: each folder holds the request (`get_multiple_accounts_req.json`) and its
 * answer (`accounts.getMultipleAccounts.json`). Only mints of the token programs are taken: token accounts are
 * served as of a slot from the history, and the chain runs no other program's state. Returns the mints loaded.
 */
export function loadRecordedMints(store: AccountStore, folders: string[]): string[] {
  const loaded: string[] = [];
  for (const dir of folders) {
    const req = JSON.parse(readFileSync(path.join(dir, "get_multiple_accounts_req.json"), "utf8"));
    const res = JSON.parse(readFileSync(path.join(dir, "accounts.getMultipleAccounts.json"), "utf8"));
    const keys: unknown = req?.params?.[0];
    const values: unknown = (res?.result ?? res)?.value;
    if (!Array.isArray(keys) || !Array.isArray(values) || keys.length !== values.length)
      throw new Error(`${dir}: the recorded request and answer do not pair up`);
    keys.forEach((key, i) => {
      const v = values[i] as { lamports: number; owner: string; data: [string, string]; executable: boolean } | null;
      if (!v || (v.owner !== TOKEN_PROGRAM && v.owner !== TOKEN_2022_PROGRAM)) return;
      const data = Buffer.from(v.data[0], "base64");
      const isMint = data.length === 82 || (data.length > 165 && data[165] === 1);
      if (!isMint) return;
      store.set(String(key), {
        lamports: v.lamports,
        owner: v.owner,
        data,
        executable: v.executable,
        rentEpoch: U64_MAX,
      });
      loaded.push(String(key));
    });
  }
  return loaded;
}
