/**
 * Synthetic load: transactions cloned from recorded templates with new signatures.
 * @dev Nothing per clone is stored. A synthetic block is `{start, count}` over the template cycle,
 * and each signature encodes its (slot, index, k) so getTransaction can find and regenerate it.
 */
import type { TxRecord } from "./tx-record.js";

const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));
const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < 58; i++) DIGIT[CODES[i]!] = i;

/** Characters of a synthetic signature, and (at its end) base58 digits of slot, index and k. */
const SIG_LEN = 88;
const SLOT_DIGITS = 6;
const IDX_DIGITS = 4;
const K_DIGITS = 2;
const PAYLOAD_AT = SIG_LEN - SLOT_DIGITS - IDX_DIGITS - K_DIGITS;
const sigChars = Buffer.alloc(SIG_LEN);

/** Writes `v` as `n` base58 digits ending before `end`; throws if it does not fit. */
function putDigits(v: number, n: number, end: number): void {
  for (let p = end - 1; p >= end - n; p--) {
    sigChars[p] = CODES[v % 58]!;
    v = Math.floor(v / 58);
  }
  if (v !== 0) throw new Error(`synthetic signature: value does not fit in ${n} base58 digits`);
}

/** The `n` base58 digits of `sig` starting at `from` as a number, or -1 for a character outside the alphabet. */
function readDigits(sig: string, from: number, n: number): number {
  let v = 0;
  for (let p = from; p < from + n; p++) {
    const c = sig.charCodeAt(p);
    const d = c < 128 ? DIGIT[c]! : -1;
    if (d < 0) return -1;
    v = v * 58 + d;
  }
  return v;
}

/**
 * The `k`-th signature of transaction `idx` of `slot`: 88 base58 characters, the first one of 2-5 (so it decodes to
 * exactly 64 bytes, as a real signature does), then characters from a splitmix32 stream seeded by (slot, idx, k),
 * then (slot, idx, k) as 12 base58 digits. Random-looking from the front like a real signature (inserts into a
 * btree on it land anywhere, not in order), and written directly in base58.
 * @dev base58-encoding 64 random bytes per clone was a third of the chain's CPU per served transaction.
 */
function makeSignature(slot: number, idx: number, k: number): string {
  let s = (Math.imul(slot ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(idx + 1, 0xc2b2ae35) ^ (k << 24)) >>> 0;
  for (let p = 0; p < PAYLOAD_AT; p++) {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    z = (z ^ (z >>> 15)) >>> 0;
    sigChars[p] = CODES[p === 0 ? 1 + (z % 4) : z % 58]!;
  }
  putDigits(slot, SLOT_DIGITS, PAYLOAD_AT + SLOT_DIGITS);
  putDigits(idx, IDX_DIGITS, PAYLOAD_AT + SLOT_DIGITS + IDX_DIGITS);
  putDigits(k, K_DIGITS, SIG_LEN);
  return sigChars.toString("latin1");
}

/** (slot, idx, k) as written at the end of a synthetic signature, or null for a string of another form. */
function decodeSignature(sig: string): { slot: number; idx: number; k: number } | null {
  if (sig.length !== SIG_LEN) return null;
  const slot = readDigits(sig, PAYLOAD_AT, SLOT_DIGITS);
  const idx = readDigits(sig, PAYLOAD_AT + SLOT_DIGITS, IDX_DIGITS);
  const k = readDigits(sig, PAYLOAD_AT + SLOT_DIGITS + IDX_DIGITS, K_DIGITS);
  return slot < 0 || idx < 0 || k < 0 ? null : { slot, idx, k };
}

/** The template cycle and signature codec for synthetic transactions. */
export type SyntheticSource = {
  templates: readonly TxRecord[];
  /** `k`-th signature of transaction `idx` of `slot`. */
  signature(slot: number, idx: number, k: number): string;
  /** All signatures of the clone at `idx` of `slot`, given its template. */
  signatures(slot: number, idx: number, tpl: TxRecord): string[];
  /** (slot, idx) encoded in a synthetic signature, or null for any other string. */
  decode(signature: string): { slot: number; idx: number } | null;
  /** Template of absolute cycle position `pos`. */
  templateAt(pos: number): TxRecord;
  /** Whether any v0 template falls in the window [start, start+count). */
  hasV0(start: number, count: number): boolean;
  /** Indexes within the window that mention `address`, newest (highest index) first. */
  matches(address: string, start: number, count: number): number[];
};

/** Builds the synthetic source over the recorded templates (may be empty). */
export function createSyntheticSource(templates: readonly TxRecord[]): SyntheticSource {
  const T = templates.length;
  const v0Prefix = new Int32Array(T + 1);
  templates.forEach((t, i) => (v0Prefix[i + 1] = v0Prefix[i]! + (t.version === 0 ? 1 : 0)));
  const positions = new Map<string, number[]>();
  templates.forEach((t, i) => {
    for (const k of new Set(t.accountKeys)) {
      let list = positions.get(k);
      if (!list) positions.set(k, (list = []));
      list.push(i);
    }
  });
  const signature = makeSignature;

  return {
    templates,
    signature,
    signatures(slot, idx, tpl) {
      const n = tpl.raw.transaction.signatures.length;
      const out = new Array<string>(n);
      for (let k = 0; k < n; k++) out[k] = signature(slot, idx, k);
      return out;
    },
    decode(sig) {
      const at = decodeSignature(sig);
      return at && at.k === 0 && signature(at.slot, at.idx, 0) === sig ? { slot: at.slot, idx: at.idx } : null;
    },
    templateAt(pos) {
      return templates[pos % T]!;
    },
    hasV0(start, count) {
      if (T === 0 || count === 0) return false;
      if (count >= T) return v0Prefix[T]! > 0;
      const a = start % T;
      const b = a + count;
      if (b <= T) return v0Prefix[b]! - v0Prefix[a]! > 0;
      return v0Prefix[T]! - v0Prefix[a]! + v0Prefix[b - T]! > 0;
    },
    matches(address, start, count) {
      const list = positions.get(address);
      const out: number[] = [];
      if (!list || count === 0) return out;
      const end = start + count;
      for (let c = Math.floor((end - 1) / T); c * T + T > start && c >= 0; c--) {
        const base = c * T;
        const lo = Math.max(start, base) - base;
        const hi = Math.min(end, base + T) - base;
        for (let j = list.length - 1; j >= 0; j--) {
          const p = list[j]!;
          if (p >= hi) continue;
          if (p < lo) break;
          out.push(base + p - start);
        }
      }
      return out;
    },
  };
}
