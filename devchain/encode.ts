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

type ElementOpts = { encoding: TxEncoding; details: TxDetails; rewards: boolean; withVersion: boolean };

const SIGS_OPEN = Buffer.from('{"transaction":{"signatures":');
const sigsJson = (sigs: readonly string[]): string => `["${sigs.join('","')}"]`;
const variantKey = (o: ElementOpts): string =>
  `${o.encoding}|${o.details}|${o.rewards ? 1 : 0}|${o.withVersion ? 1 : 0}`;

/** The text after a transaction's signatures array, for json-like encodings. */
function afterSignatures(v: TxView, o: ElementOpts): string {
  const { rec } = v;
  const ver = o.withVersion ? (rec.version === 0 ? ',"version":0' : ',"version":"legacy"') : "";
  if (o.details === "accounts")
    return `,"accountKeys":${accountKeysJson(rec)}},"meta":${metaAccountsJson(rec, o.rewards)}${ver}}`;
  if (o.encoding === "jsonParsed")
    return `,"message":${parsedMessageJson(rec)}},"meta":${parsedMetaJson(rec, o.rewards)}${ver}}`;
  return `,"message":${messageJson(rec)}},"meta":${metaJson(rec, o.rewards)}${ver}}`;
}

/**
 * One element of getBlock's `transactions` as byte pieces. For json-like encodings the bytes
 * after the signatures are cached per record and variant, so a clone costs only its signatures.
 */
export function txElementParts(v: TxView, o: ElementOpts): (Buffer | string)[] {
  const { rec } = v;
  if (o.details !== "accounts" && (o.encoding === "base64" || o.encoding === "base58")) {
    const ver = o.withVersion ? (rec.version === 0 ? ',"version":0' : ',"version":"legacy"') : "";
    const b64 = wireBase64(rec, v.signatures);
    const data = o.encoding === "base64" ? b64 : bs58.encode(Buffer.from(b64, "base64"));
    return [Buffer.from(`{"transaction":["${data}","${o.encoding}"],"meta":${metaJson(rec, o.rewards)}${ver}}`)];
  }
  const cache = ((rec.cache as { parts?: Map<string, { tail: Buffer; whole?: Buffer }> }).parts ??= new Map());
  const key = variantKey(o);
  let entry = cache.get(key);
  if (!entry) cache.set(key, (entry = { tail: Buffer.from(afterSignatures(v, o)) }));
  const own = v.signatures === rec.raw.transaction.signatures;
  if (own) {
    entry.whole ??= Buffer.concat([SIGS_OPEN, Buffer.from(sigsJson(v.signatures)), entry.tail]);
    return [entry.whole];
  }
  return [SIGS_OPEN, sigsJson(v.signatures), entry.tail];
}

/** One element of getBlock's `transactions` as text. */
export function txElement(v: TxView, o: ElementOpts): string {
  return assemble(txElementParts(v, o)).toString();
}

/** Concatenates byte and ASCII-string pieces into one buffer with a single allocation. */
function assemble(pieces: readonly (Buffer | string)[]): Buffer {
  let len = 0;
  for (const p of pieces) len += p.length;
  const out = Buffer.allocUnsafe(len);
  let off = 0;
  for (const p of pieces) {
    if (typeof p === "string") off += out.write(p, off, "latin1");
    else off += p.copy(out, off);
  }
  return out;
}

/** getTransaction result bytes for a located transaction. */
export function txResult(block: BlockRecord, v: TxView, encoding: TxEncoding, withVersion: boolean): Buffer {
  const parts = txElementParts(v, { encoding, details: "full", rewards: true, withVersion });
  const head = Buffer.from(`{"slot":${block.slot},"blockTime":${block.blockTime === null ? "null" : block.blockTime},`);
  // Drop the element's opening brace: the result object continues with its fields.
  const first = parts[0]!;
  return assemble([head, typeof first === "string" ? first.slice(1) : first.subarray(1), ...parts.slice(1)]);
}

/** Whether the block holds a v0 transaction. */
export function blockHasV0(b: BlockRecord, synthHasV0: (start: number, count: number) => boolean): boolean {
  return b.txs.some((t) => t.version === 0) || (b.synth !== null && synthHasV0(b.synth.start, b.synth.count));
}

const COMMA = ",";

/** Segment size of a block's result bytes (see encodeBlock). */
const SEGMENT_BYTES = 256 * 1024;

/**
 * Concatenates pieces into buffers of about SEGMENT_BYTES (a piece is never split).
 * @dev One 54 MB buffer per synthetic block is a fresh mmap every time (above glibc's 32 MB ceiling for its
 * heap): copying the pieces into it page-faulted 13,000 pages, 21-28 ms a block against 6-7 ms for the same bytes
 * in 256 KB segments, which malloc recycles. Under the ingest bench's load the chain spent 9% of its CPU there.
 */
function assembleSegments(pieces: readonly (Buffer | string)[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  let len = 0;
  for (let i = 0; i < pieces.length; i++) {
    len += pieces[i]!.length;
    if (len >= SEGMENT_BYTES || i === pieces.length - 1) {
      out.push(assemble(pieces.slice(from, i + 1)));
      from = i + 1;
      len = 0;
    }
  }
  return out;
}

/** Builds getBlock result bytes (no caching), as segments to be sent one after another. */
export function encodeBlock(ledger: Ledger, b: BlockRecord, o: BlockEncodeOpts): Buffer[] {
  const head =
    `{"blockHeight":${b.blockHeight === null ? "null" : b.blockHeight},"blockTime":${b.blockTime === null ? "null" : b.blockTime},` +
    `"blockhash":"${b.blockhash}","parentSlot":${b.parentSlot},"previousBlockhash":"${b.previousBlockhash}"` +
    (o.rewards ? `,"rewards":${b.rewardsJson}` : "") +
    (o.rewards && b.numRewardPartitions !== undefined ? `,"numRewardPartitions":${b.numRewardPartitions}` : "");
  const n = ledger.txCount(b);
  if (o.details === "none") return [Buffer.from(head + "}")];
  if (o.details === "signatures") {
    const sigs = new Array<string>(n);
    for (let i = 0; i < n; i++) sigs[i] = ledger.txAt(b, i).signatures[0]!;
    return [Buffer.from(`${head},"signatures":${n === 0 ? "[]" : `["${sigs.join('","')}"]`}}`)];
  }
  const pieces: (Buffer | string)[] = [`${head},"transactions":[`];
  for (let i = 0; i < n; i++) {
    if (i > 0) pieces.push(COMMA);
    for (const p of txElementParts(ledger.txAt(b, i), o)) pieces.push(p);
  }
  pieces.push("]}");
  return assembleSegments(pieces);
}

/** A least-recently-used cache of encoded blocks, bounded by total bytes. */
export function createBlockCache(maxBytes: number) {
  const map = new Map<string, Buffer[]>();
  const size = (v: Buffer[]) => v.reduce((a, x) => a + x.length, 0);
  let bytes = 0;
  return {
    get(ledger: Ledger, b: BlockRecord, o: BlockEncodeOpts): Buffer[] {
      const key = `${b.slot}|${b.blockhash}|${o.encoding}|${o.details}|${o.rewards ? 1 : 0}|${o.withVersion ? 1 : 0}`;
      const hit = map.get(key);
      if (hit) {
        map.delete(key);
        map.set(key, hit);
        return hit;
      }
      const buf = encodeBlock(ledger, b, o);
      map.set(key, buf);
      bytes += size(buf);
      for (const [k, v] of map) {
        if (bytes <= maxBytes || map.size <= 1) break;
        map.delete(k);
        bytes -= size(v);
      }
      return buf;
    },
    clear(): void {
      map.clear();
      bytes = 0;
    },
  };
}
