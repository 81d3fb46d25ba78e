/**
 * Loads recorded getBlock / getTransaction results from files and folders into slot-ordered blocks.
 * @dev Accepts json or base64 (and base58) transaction encodings, with or without the
 * {jsonrpc,result,id} envelope, and bare arrays of either. Anything unreadable becomes a
 * `FixtureProblem` naming the file and the reason; the rest still loads.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import bs58 from "bs58";
import type { RawBlockTransaction, RawMeta } from "../core/solana-types.js";
import { parseLossless } from "./lossless-json.js";
import { createTxRecord, decodeWireTransaction, type TxRecord } from "./tx-record.js";

/** A file that could not be used, and why. */
export type FixtureProblem = { file: string; reason: string };

/** One slot's worth of recorded data. Fields a getTransaction-only slot lacks are undefined. */
export type FixtureBlock = {
  slot: number;
  parentSlot?: number;
  blockhash?: string;
  previousBlockhash?: string;
  blockTime: number | null;
  blockHeight?: number | null;
  rewards?: unknown[];
  numRewardPartitions?: number;
  txs: TxRecord[];
};

/** What loadFixtures found. */
export type LoadedFixtures = { blocks: FixtureBlock[]; problems: FixtureProblem[]; files: number; duplicates: number };

type Obj = Record<string, unknown>;
const PUBKEY = /^[1-9A-HJ-NP-Za-km-z]{32,44}$/;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Lists the files under each path (recursively; only *.json inside folders), sorted. */
export function listFixtureFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (p: string, explicit: boolean): void => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) walk(path.join(p, name), false);
    } else if (explicit || p.endsWith(".json")) {
      out.push(p);
    }
  };
  for (const p of paths) walk(p, true);
  return out;
}

/** Reads every fixture file under `paths` and groups transactions into blocks by slot. */
export function loadFixtures(paths: readonly string[]): LoadedFixtures {
  const problems: FixtureProblem[] = [];
  const bySlot = new Map<number, FixtureBlock>();
  const seen = new Set<string>();
  let duplicates = 0;
  let files: string[] = [];
  for (const p of paths) {
    try {
      files = files.concat(listFixtureFiles([p]));
    } catch (err) {
      problems.push({ file: p, reason: (err as Error).message });
    }
  }
  const addTx = (slot: number, blockTime: number | null, rec: TxRecord): void => {
    if (seen.has(rec.signature)) {
      duplicates++;
      return;
    }
    seen.add(rec.signature);
    let b = bySlot.get(slot);
    if (!b) bySlot.set(slot, (b = { slot, blockTime, txs: [] }));
    if (b.blockTime === null && blockTime !== null) b.blockTime = blockTime;
    b.txs.push(rec);
  };
  for (const file of files) {
    try {
      const { value, hasBigInts } = parseLossless(readFileSync(file, "utf8"));
      const items = Array.isArray(value) ? value : [value];
      if (items.length === 0) throw new Error("empty array");
      const pending: (() => void)[] = [];
      for (const [i, item] of items.entries()) {
        const where = items.length > 1 ? ` (item ${i})` : "";
        const result = unwrap(item, where);
        if ("blockhash" in result && "parentSlot" in result) {
          const slot = blockSlot(result, file);
          const txs = blockTransactions(result, where, hasBigInts);
          pending.push(() => {
            const existing = bySlot.get(slot);
            if (existing?.blockhash !== undefined && existing.blockhash !== result.blockhash) {
              problems.push({ file, reason: `slot ${slot} already loaded with blockhash ${existing.blockhash}` });
              return;
            }
            const b: FixtureBlock = existing ?? { slot, blockTime: null, txs: [] };
            b.parentSlot = result.parentSlot as number;
            b.blockhash = result.blockhash as string;
            b.previousBlockhash = result.previousBlockhash as string;
            b.blockTime = (result.blockTime as number | null) ?? null;
            b.blockHeight = (result.blockHeight as number | null) ?? null;
            if (Array.isArray(result.rewards)) b.rewards = result.rewards;
            if (typeof result.numRewardPartitions === "number") b.numRewardPartitions = result.numRewardPartitions;
            // Block order wins over loose getTransaction files for the same slot.
            const loose = b.txs.filter((t) => !txs.some((x) => x.signature === t.signature));
            const fresh = txs.filter((t) => {
              if (seen.has(t.signature) && !b.txs.some((x) => x.signature === t.signature)) {
                duplicates++;
                return false;
              }
              seen.add(t.signature);
              return true;
            });
            duplicates += b.txs.length - loose.length;
            b.txs = [...fresh, ...loose];
            bySlot.set(slot, b);
          });
        } else if ("slot" in result && "transaction" in result) {
          if (typeof result.slot !== "number") throw new Error(`${where}slot is not a number`.trim());
          const rec = toRecord(result, where, hasBigInts);
          const blockTime = typeof result.blockTime === "number" ? result.blockTime : null;
          pending.push(() => addTx(result.slot as number, blockTime, rec));
        } else {
          throw new Error(`not a getBlock or getTransaction result${where}`);
        }
      }
      for (const apply of pending) apply();
    } catch (err) {
      problems.push({ file, reason: (err as Error).message });
    }
  }
  const blocks = [...bySlot.values()].sort((a, b) => a.slot - b.slot);
  return { blocks, problems, files: files.length, duplicates };
}

function unwrap(item: unknown, where: string): Obj {
  if (!isObj(item)) throw new Error(`expected an object${where}`);
  if ("jsonrpc" in item || ("result" in item && "id" in item)) {
    if ("error" in item) throw new Error(`response holds an error${where}: ${JSON.stringify(item.error)}`);
    if (item.result === null || item.result === undefined) throw new Error(`result is null${where}`);
    if (!isObj(item.result)) throw new Error(`result is not an object${where}`);
    return item.result;
  }
  if ("result" in item && isObj(item.result) && !("transaction" in item) && !("blockhash" in item)) return item.result;
  return item;
}

/** The block's slot: an explicit `slot`, else a number in the file name just above parentSlot, else parentSlot + 1. */
function blockSlot(result: Obj, file: string): number {
  if (typeof result.slot === "number") return result.slot;
  const parent = result.parentSlot;
  if (typeof parent !== "number") throw new Error("parentSlot is not a number");
  const nums = (path.basename(file).match(/\d+/g) ?? []).map(Number).filter((n) => n > parent && n <= parent + 1000);
  return nums.length ? Math.min(...nums) : parent + 1;
}

function blockTransactions(result: Obj, where: string, hasBigInts: boolean): TxRecord[] {
  if (!Array.isArray(result.transactions)) {
    throw new Error(`block has no transactions array${where} (record it with transactionDetails "full")`);
  }
  return result.transactions.map((t, i) => {
    if (!isObj(t)) throw new Error(`transactions[${i}] is not an object${where}`);
    return toRecord(t, `${where} transactions[${i}]`, hasBigInts);
  });
}

function toRecord(t: Obj, where: string, hasBigInts: boolean): TxRecord {
  const meta = (t.meta ?? null) as RawMeta | null;
  const version = t.version === 0 || t.version === "legacy" ? t.version : undefined;
  const tx = t.transaction;
  let raw: RawBlockTransaction;
  if (Array.isArray(tx)) {
    const [data, enc] = tx as [unknown, unknown];
    if (typeof data !== "string") throw new Error(`binary transaction is not a string${where}`);
    if (enc === "base64") raw = decodeWireTransaction(data, meta, version);
    else if (enc === "base58")
      raw = decodeWireTransaction(Buffer.from(bs58.decode(data)).toString("base64"), meta, version);
    else throw new Error(`unsupported transaction encoding ${String(enc)}${where}`);
    if (version === undefined) delete raw.version;
  } else if (isObj(tx) && isObj(tx.message) && Array.isArray(tx.signatures)) {
    const keys = tx.message.accountKeys;
    if (!Array.isArray(keys) || keys.some((k) => typeof k !== "string")) {
      throw new Error(`jsonParsed transactions are not supported, record with encoding json or base64${where}`);
    }
    raw = { transaction: tx as RawBlockTransaction["transaction"], meta };
    if (version !== undefined) raw.version = version;
  } else {
    throw new Error(`no transaction${where}`);
  }
  const badKey = [
    ...raw.transaction.message.accountKeys,
    ...(meta?.loadedAddresses?.writable ?? []),
    ...(meta?.loadedAddresses?.readonly ?? []),
  ].find((k) => !PUBKEY.test(k));
  if (badKey !== undefined) throw new Error(`invalid account key ${JSON.stringify(badKey.slice(0, 60))}${where}`);
  try {
    return createTxRecord(raw, hasBigInts);
  } catch (err) {
    throw new Error(`${(err as Error).message}${where}`);
  }
}
