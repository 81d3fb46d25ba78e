/**
 * One stored transaction (recorded, synthetic template or LiteSVM-executed) and its wire codecs.
 * @dev The recorded JSON is kept as parsed (`raw`); serialized fragments are cached lazily so a
 * request never re-serializes a transaction that was already encoded once.
 */
import bs58 from "bs58";
import { Message, MessageV0, PublicKey, VersionedTransaction } from "@solana/web3.js";
import type { RawBlockTransaction, RawCompiledInstruction, RawMessage } from "../core/solana-types.js";
import { fixBigInts } from "./lossless-json.js";

const VOTE_PROGRAM = "Vote111111111111111111111111111111111111111";

/** Serialized fragments of one transaction, filled on first use. */
type TxCache = {
  message?: string;
  meta?: string;
  metaNoRewards?: string;
  metaAccounts?: string;
  metaAccountsNoRewards?: string;
  accountKeys?: string;
  parsedMessage?: string;
  parsedMeta?: string;
  parsedMetaNoRewards?: string;
  messageBytes?: Uint8Array;
  logs?: string;
  err?: string;
};

/** A transaction as the chain stores it. */
export type TxRecord = {
  raw: RawBlockTransaction;
  version: "legacy" | 0;
  signature: string;
  /** static keys ++ loaded writable ++ loaded readonly */
  accountKeys: string[];
  isVote: boolean;
  hasBigInts: boolean;
  cache: TxCache;
};

/** Builds a record from a json-encoded transaction with meta. */
export function createTxRecord(raw: RawBlockTransaction, hasBigInts = false): TxRecord {
  const msg = raw.transaction.message;
  const loaded = raw.meta?.loadedAddresses;
  const accountKeys = loaded ? [...msg.accountKeys, ...loaded.writable, ...loaded.readonly] : [...msg.accountKeys];
  const version = raw.version ?? (msg.addressTableLookups ? 0 : "legacy");
  // A validator always sends addressTableLookups on a v0 message (web3.js requires it); some
  // converted recordings lost it.
  if (version === 0 && !msg.addressTableLookups) msg.addressTableLookups = [];
  const isVote = msg.instructions.length === 1 && accountKeys[msg.instructions[0]!.programIdIndex] === VOTE_PROGRAM;
  const signature = raw.transaction.signatures[0];
  if (typeof signature !== "string") throw new Error("transaction has no signature");
  const incoherent = incoherence(raw, accountKeys.length);
  if (incoherent) throw new Error(`transaction ${signature} is not one a validator could produce: ${incoherent}`);
  return { raw, version, signature, accountKeys, isVote, hasBigInts, cache: {} };
}

/**
 * Why a recorded transaction is internally inconsistent, or null: inner instructions of an instruction it does not
 * have, or an index past its account keys. Such a recording (e.g. a message cut down for a reproduction, with the
 * original's meta) is refused at load, as a validator never serves one; the indexer treats one as a malformed answer.
 */
function incoherence(raw: RawBlockTransaction, nKeys: number): string | null {
  const ixs = raw.transaction.message.instructions;
  const bad = (ix: RawCompiledInstruction) =>
    ix.programIdIndex >= nKeys || (Array.isArray(ix.accounts) && ix.accounts.some((a) => a >= nKeys));
  for (const [j, ix] of ixs.entries()) if (bad(ix)) return `instruction ${j} names an account past its ${nKeys} keys`;
  for (const group of raw.meta?.innerInstructions ?? []) {
    if (group.index >= ixs.length) return `inner instructions of instruction ${group.index}, of ${ixs.length}`;
    if (group.instructions.some(bad)) return `an inner instruction of ${group.index} names an account past its keys`;
  }
  return null;
}

/** Decodes a `[base64, "base64"]` transaction (with its json meta) into the json shape. */
export function decodeWireTransaction(
  b64: string,
  meta: RawBlockTransaction["meta"],
  version?: "legacy" | 0,
): RawBlockTransaction {
  const vtx = VersionedTransaction.deserialize(Buffer.from(b64, "base64"));
  const signatures = vtx.signatures.map((s) => bs58.encode(s));
  const m = vtx.message;
  let message: RawMessage;
  if (m.version === "legacy") {
    const lm = m as unknown as Message;
    message = {
      accountKeys: lm.accountKeys.map((k) => k.toBase58()),
      header: { ...lm.header },
      recentBlockhash: lm.recentBlockhash,
      instructions: lm.instructions.map((ix) => ({
        programIdIndex: ix.programIdIndex,
        accounts: ix.accounts,
        data: ix.data,
        stackHeight: null,
      })),
    };
  } else {
    const vm = m as MessageV0;
    message = {
      accountKeys: vm.staticAccountKeys.map((k) => k.toBase58()),
      header: { ...vm.header },
      recentBlockhash: vm.recentBlockhash,
      instructions: vm.compiledInstructions.map((ix) => ({
        programIdIndex: ix.programIdIndex,
        accounts: [...ix.accountKeyIndexes],
        data: bs58.encode(ix.data),
        stackHeight: null,
      })),
      addressTableLookups: vm.addressTableLookups.map((l) => ({
        accountKey: l.accountKey.toBase58(),
        writableIndexes: [...l.writableIndexes],
        readonlyIndexes: [...l.readonlyIndexes],
      })),
    };
  }
  const out: RawBlockTransaction = { transaction: { signatures, message }, meta };
  const v = version ?? (m.version === "legacy" ? "legacy" : 0);
  out.version = v;
  return out;
}

/** Wire bytes of the message (legacy or v0) of a record, cached. */
export function messageBytes(rec: TxRecord): Uint8Array {
  if (rec.cache.messageBytes) return rec.cache.messageBytes;
  const msg = rec.raw.transaction.message;
  let bytes: Uint8Array;
  if (rec.version === 0) {
    bytes = new MessageV0({
      header: msg.header,
      staticAccountKeys: msg.accountKeys.map((k) => new PublicKey(k)),
      recentBlockhash: msg.recentBlockhash,
      compiledInstructions: msg.instructions.map((ix) => ({
        programIdIndex: ix.programIdIndex,
        accountKeyIndexes: ix.accounts,
        data: bs58.decode(ix.data),
      })),
      addressTableLookups: (msg.addressTableLookups ?? []).map((l) => ({
        accountKey: new PublicKey(l.accountKey),
        writableIndexes: l.writableIndexes,
        readonlyIndexes: l.readonlyIndexes,
      })),
    }).serialize();
  } else {
    bytes = new Message({
      header: msg.header,
      accountKeys: msg.accountKeys,
      recentBlockhash: msg.recentBlockhash,
      instructions: msg.instructions.map((ix) => ({
        programIdIndex: ix.programIdIndex,
        accounts: ix.accounts,
        data: ix.data,
      })),
    }).serialize();
  }
  rec.cache.messageBytes = bytes;
  return bytes;
}

/** base64 of the full wire transaction with the given signatures. */
export function wireBase64(rec: TxRecord, signatures: readonly string[]): string {
  const msg = messageBytes(rec);
  const parts: Uint8Array[] = [shortVec(signatures.length)];
  for (const s of signatures) parts.push(bs58.decode(s));
  parts.push(msg);
  return Buffer.concat(parts).toString("base64");
}

function shortVec(n: number): Uint8Array {
  const out: number[] = [];
  let v = n;
  for (;;) {
    let b = v & 0x7f;
    v >>= 7;
    if (v === 0) {
      out.push(b);
      return Uint8Array.from(out);
    }
    b |= 0x80;
    out.push(b);
  }
}

function ser(rec: TxRecord, value: unknown): string {
  const s = JSON.stringify(value);
  return rec.hasBigInts ? fixBigInts(s) : s;
}

/** JSON of the json-encoded message. */
export function messageJson(rec: TxRecord): string {
  return (rec.cache.message ??= ser(rec, rec.raw.transaction.message));
}

/** JSON of the full meta, as recorded, or with `rewards: null` when rewards were not asked for. */
export function metaJson(rec: TxRecord, rewards: boolean): string {
  const meta = rec.raw.meta;
  if (meta === null) return "null";
  if (rewards) return (rec.cache.meta ??= ser(rec, meta));
  return (rec.cache.metaNoRewards ??= ser(rec, { ...meta, rewards: null }));
}

/** JSON of the meta served with transactionDetails `accounts`. */
export function metaAccountsJson(rec: TxRecord, rewards: boolean): string {
  const m = rec.raw.meta;
  if (m === null) return "null";
  const key = rewards ? "metaAccounts" : "metaAccountsNoRewards";
  const cached = rec.cache[key];
  if (cached) return cached;
  const simple: Record<string, unknown> = {
    err: m.err,
    status: m.status ?? (m.err === null ? { Ok: null } : { Err: m.err }),
    fee: m.fee,
    preBalances: m.preBalances,
    postBalances: m.postBalances,
    preTokenBalances: m.preTokenBalances ?? null,
    postTokenBalances: m.postTokenBalances ?? null,
  };
  if (rewards) simple.rewards = m.rewards ?? null;
  return (rec.cache[key] = ser(rec, simple));
}

function annotatedKeys(rec: TxRecord): { pubkey: string; writable: boolean; signer: boolean; source: string }[] {
  const msg = rec.raw.transaction.message;
  const h = msg.header;
  const n = msg.accountKeys.length;
  const out = msg.accountKeys.map((pubkey, i) => {
    const signer = i < h.numRequiredSignatures;
    const writable = signer
      ? i < h.numRequiredSignatures - h.numReadonlySignedAccounts
      : i < n - h.numReadonlyUnsignedAccounts;
    return { pubkey, writable, signer, source: "transaction" };
  });
  const loaded = rec.raw.meta?.loadedAddresses;
  if (loaded) {
    for (const pubkey of loaded.writable) out.push({ pubkey, writable: true, signer: false, source: "lookupTable" });
    for (const pubkey of loaded.readonly) out.push({ pubkey, writable: false, signer: false, source: "lookupTable" });
  }
  return out;
}

/** JSON of `accountKeys` for transactionDetails `accounts`. */
export function accountKeysJson(rec: TxRecord): string {
  return (rec.cache.accountKeys ??= ser(rec, annotatedKeys(rec)));
}

function partiallyDecoded(rec: TxRecord, ix: RawCompiledInstruction): Record<string, unknown> {
  const keys = rec.accountKeys;
  return {
    programId: keys[ix.programIdIndex],
    accounts: ix.accounts.map((a) => keys[a]),
    data: ix.data,
    stackHeight: ix.stackHeight ?? null,
  };
}

/** JSON of the jsonParsed message: annotated keys, instructions partially decoded (no program parsers). */
export function parsedMessageJson(rec: TxRecord): string {
  if (rec.cache.parsedMessage) return rec.cache.parsedMessage;
  const msg = rec.raw.transaction.message;
  const parsed: Record<string, unknown> = {
    accountKeys: annotatedKeys(rec),
    instructions: msg.instructions.map((ix) => partiallyDecoded(rec, ix)),
    recentBlockhash: msg.recentBlockhash,
  };
  if (msg.addressTableLookups) parsed.addressTableLookups = msg.addressTableLookups;
  return (rec.cache.parsedMessage = ser(rec, parsed));
}

/** JSON of the jsonParsed meta: inner instructions partially decoded, loadedAddresses skipped. */
export function parsedMetaJson(rec: TxRecord, rewards: boolean): string {
  const m = rec.raw.meta;
  if (m === null) return "null";
  const key = rewards ? "parsedMeta" : "parsedMetaNoRewards";
  const cached = rec.cache[key];
  if (cached) return cached;
  const { loadedAddresses: _skip, ...rest } = m;
  const out: Record<string, unknown> = {
    ...rest,
    innerInstructions:
      m.innerInstructions?.map((g) => ({
        index: g.index,
        instructions: g.instructions.map((ix) => partiallyDecoded(rec, ix)),
      })) ?? null,
  };
  if (!rewards) out.rewards = null;
  return (rec.cache[key] = ser(rec, out));
}

/** JSON of the log lines (never null, as Agave sends in logsNotification). */
export function logsJson(rec: TxRecord): string {
  return (rec.cache.logs ??= ser(rec, rec.raw.meta?.logMessages ?? []));
}

/** JSON of meta.err. */
export function errJson(rec: TxRecord): string {
  return (rec.cache.err ??= ser(rec, rec.raw.meta?.err ?? null));
}
