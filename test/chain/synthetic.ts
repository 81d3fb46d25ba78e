/**
 * Synthetic load: transactions cloned from recorded templates with new signatures.
 * @dev Nothing per clone is stored. A synthetic block is `{start, count}` over the template cycle,
 * and each signature encodes its (slot, index, k) so getTransaction can find and regenerate it.
 */
import bs58 from "bs58";
import { base58Encode } from "./base58.js";
import type { TxRecord } from "./tx-record.js";

const MARK = [0xa5, 0x5a, 0xc3];

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

  const raw = (slot: number, idx: number, k: number): Uint8Array => {
    const b = new Uint8Array(64);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, slot >>> 0, true);
    dv.setUint32(4, Math.floor(slot / 2 ** 32), true);
    dv.setUint32(8, idx, true);
    b[12] = k;
    b.set(MARK, 13);
    // splitmix32 stream seeded by (slot, idx, k): the random-looking tail.
    let s = (Math.imul(slot ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(idx + 1, 0xc2b2ae35) ^ (k << 24)) >>> 0;
    for (let o = 16; o < 64; o += 4) {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      dv.setUint32(o, (z ^ (z >>> 15)) >>> 0, true);
    }
    for (let i = 0; i < 16; i++) b[i] = b[i]! ^ b[48 + i]!;
    return b;
  };

  const signature = (slot: number, idx: number, k: number): string => base58Encode(raw(slot, idx, k));

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
      if (sig.length < 80 || sig.length > 90) return null;
      let b: Uint8Array;
      try {
        b = bs58.decode(sig);
      } catch {
        return null;
      }
      if (b.length !== 64) return null;
      const u = Uint8Array.from(b);
      for (let i = 0; i < 16; i++) u[i] = u[i]! ^ u[48 + i]!;
      if (u[13] !== MARK[0] || u[14] !== MARK[1] || u[15] !== MARK[2] || u[12] !== 0) return null;
      const dv = new DataView(u.buffer);
      const slot = dv.getUint32(0, true) + dv.getUint32(4, true) * 2 ** 32;
      const idx = dv.getUint32(8, true);
      return signature(slot, idx, 0) === sig ? { slot, idx } : null;
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
