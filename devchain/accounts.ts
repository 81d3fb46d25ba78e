/**
 * Account state served by getAccountInfo / getMultipleAccounts: mints derived from recorded token
 * balances (decimals, owner program, supply as the sum of the last seen balances) and the live
 * accounts of LiteSVM activity.
 * @dev Derived mints carry no authorities; their supply is a lower bound computed from the data.
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
  get(pubkey: string): StoredAccount | undefined;
  set(pubkey: string, account: StoredAccount | null): void;
  /** Records the mints seen in recorded token balances. */
  addMintsFrom(txs: Iterable<TxRecord>): void;
  /** Every account, as [pubkey, account]. */
  entries(): IterableIterator<[string, StoredAccount]>;
  size(): number;
};

const U64_MAX = 18446744073709551615n;
const MINT_RENT = 1461600;

/** Creates an empty store. */
export function createAccountStore(): AccountStore {
  const map = new Map<string, StoredAccount>();
  return {
    get: (k) => map.get(k),
    set(k, a) {
      if (a === null || a.lamports === 0) map.delete(k);
      else map.set(k, a);
    },
    size: () => map.size,
    entries: () => map.entries(),
    addMintsFrom(txs) {
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
        for (const v of m.balances.values()) supply += v;
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
