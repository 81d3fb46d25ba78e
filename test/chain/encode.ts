/**
 * Serializes blocks and transactions into RPC result JSON, with a byte-bounded cache per block
 * and option combination.
 * @dev Results are built from the per-transaction fragments cached on each TxRecord, so a
 * transaction is JSON-serialized once per variant for the life of the chain.
 */
import bs58 from "bs58";
import type { BlockRecord, Ledger, TxView } from "./ledger.js";
import {
  accountKeysJson,
  messageJson,
  metaAccountsJson,
  metaJson,
  parsedMessageJson,
  parsedMetaJson,
  wireBase64,
} from "./tx-record.js";

/** Transaction encodings the chain serves. */
export type TxEncoding = "json" | "jsonParsed" | "base64" | "base58";
/** getBlock transactionDetails. */
export type TxDetails = "full" | "accounts" | "signatures" | "none";

/** The options that change a getBlock result's bytes. */
export type BlockEncodeOpts = { encoding: TxEncoding; details: TxDetails; rewards: boolean; withVersion: boolean };

/** The -32015 error a validator gives for a v0 transaction without maxSupportedTransactionVersion. */
export const UNSUPPORTED_VERSION = {
  code: -32015,
  message:
    'Transaction version (0) is not supported by the requesting client. Please try the request again with the following configuration parameter: "maxSupportedTransactionVersion": 0',
};

const sigsJson = (v: TxView): string =>
  v.signatures === v.rec.raw.transaction.signatures
    ? ((v.rec.cache as { sigs?: string }).sigs ??= JSON.stringify(v.signatures))
    : `["${v.signatures.join('","')}"]`;

/** One element of getBlock's `transactions` (also the body of a getTransaction result). */
export function txElement(v: TxView, o: { encoding: TxEncoding; details: TxDetails; rewards: boolean; withVersion: boolean }): string {
  const { rec } = v;
  const ver = o.withVersion ? (rec.version === 0 ? ',"version":0' : ',"version":"legacy"') : "";
  if (o.details === "accounts") {
    return `{"transaction":{"signatures":${sigsJson(v)},"accountKeys":${accountKeysJson(rec)}},"meta":${metaAccountsJson(rec, o.rewards)}${ver}}`;
  }
  switch (o.encoding) {
    case "json":
      return `{"transaction":{"signatures":${sigsJson(v)},"message":${messageJson(rec)}},"meta":${metaJson(rec, o.rewards)}${ver}}`;
    case "jsonParsed":
      return `{"transaction":{"signatures":${sigsJson(v)},"message":${parsedMessageJson(rec)}},"meta":${parsedMetaJson(rec, o.rewards)}${ver}}`;
    case "base64":
      return `{"transaction":["${wireBase64(rec, v.signatures)}","base64"],"meta":${metaJson(rec, o.rewards)}${ver}}`;
    case "base58": {
      const b58 = bs58.encode(Buffer.from(wireBase64(rec, v.signatures), "base64"));
      return `{"transaction":["${b58}","base58"],"meta":${metaJson(rec, o.rewards)}${ver}}`;
    }
  }
}

/** getTransaction result JSON for a located transaction. */
export function txResult(block: BlockRecord, v: TxView, encoding: TxEncoding, withVersion: boolean): string {
  const el = txElement(v, { encoding, details: "full", rewards: true, withVersion });
  return `{"slot":${block.slot},"blockTime":${block.blockTime === null ? "null" : block.blockTime},${el.slice(1)}`;
}

/** Whether the block holds a v0 transaction. */
export function blockHasV0(b: BlockRecord, synthHasV0: (start: number, count: number) => boolean): boolean {
  return b.txs.some((t) => t.version === 0) || (b.synth !== null && synthHasV0(b.synth.start, b.synth.count));
}

/** Builds getBlock result bytes (no caching). */
export function encodeBlock(ledger: Ledger, b: BlockRecord, o: BlockEncodeOpts): Buffer {
  const head =
    `{"blockHeight":${b.blockHeight === null ? "null" : b.blockHeight},"blockTime":${b.blockTime === null ? "null" : b.blockTime},` +
    `"blockhash":"${b.blockhash}","parentSlot":${b.parentSlot},"previousBlockhash":"${b.previousBlockhash}"` +
    (o.rewards ? `,"rewards":${b.rewardsJson}` : "") +
    (o.rewards && b.numRewardPartitions !== undefined ? `,"numRewardPartitions":${b.numRewardPartitions}` : "");
  const n = ledger.txCount(b);
  if (o.details === "none") return Buffer.from(head + "}");
  if (o.details === "signatures") {
    const sigs = new Array<string>(n);
    for (let i = 0; i < n; i++) sigs[i] = ledger.txAt(b, i).signatures[0]!;
    return Buffer.from(`${head},"signatures":${n === 0 ? "[]" : `["${sigs.join('","')}"]`}}`);
  }
  const parts = new Array<string>(n);
  for (let i = 0; i < n; i++) parts[i] = txElement(ledger.txAt(b, i), o);
  return Buffer.from(`${head},"transactions":[${parts.join(",")}]}`);
}

/** A least-recently-used cache of encoded blocks, bounded by total bytes. */
export function createBlockCache(maxBytes: number) {
  const map = new Map<string, Buffer>();
  let bytes = 0;
  return {
    get(ledger: Ledger, b: BlockRecord, o: BlockEncodeOpts): Buffer {
      const key = `${b.slot}|${b.blockhash}|${o.encoding}|${o.details}|${o.rewards ? 1 : 0}|${o.withVersion ? 1 : 0}`;
      const hit = map.get(key);
      if (hit) {
        map.delete(key);
        map.set(key, hit);
        return hit;
      }
      const buf = encodeBlock(ledger, b, o);
      map.set(key, buf);
      bytes += buf.length;
      for (const [k, v] of map) {
        if (bytes <= maxBytes || map.size <= 1) break;
        map.delete(k);
        bytes -= v.length;
      }
      return buf;
    },
    clear(): void {
      map.clear();
      bytes = 0;
    },
  };
}
