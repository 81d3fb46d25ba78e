/**
 * Base58 (Bitcoin alphabet), identical to bs58 and several times faster; shared by the indexer (the Geyser answers,
 * indexer/source/geyser-block.ts) and the local chain (its Geyser server, devchain/geyser-encode.ts).
 * @dev bs58 (base-x) converts byte by byte in base 58 (about 18 us for a 64-byte signature). The encoder works two
 * bytes at a time into limbs of 58^6 (exact in doubles: 58^6 x 65536 + carry < 2^53); the decoder five characters at
 * a time (58^5 < 2^30) into 16-bit limbs. A block update of 1,920 transactions had 200,000 keys, signatures and
 * instruction data to encode; with bs58 that was most of its conversion time.
 */

const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const CODES = Uint16Array.from(ALPHABET, (c) => c.charCodeAt(0));
const LIMB = 58 ** 6;

let limbs = new Float64Array(64);
let digits = new Uint16Array(512);

/** Bytes as base58 text, identical to bs58.encode. */
export function base58Encode(bytes: Uint8Array): string {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  // 6 base-58 digits per limb, about 1.37 digits per byte
  const need = Math.ceil((bytes.length - zeros) / 4) + 2;
  if (limbs.length < need) limbs = new Float64Array(need * 2);
  if (digits.length < need * 6) digits = new Uint16Array(need * 12);
  let n = 0; // limbs in use, least significant first
  const step = (carry: number, mul: number): void => {
    for (let j = 0; j < n; j++) {
      const x = limbs[j]! * mul + carry;
      carry = Math.floor(x / LIMB);
      limbs[j] = x - carry * LIMB;
    }
    while (carry > 0) {
      const q = Math.floor(carry / LIMB);
      limbs[n++] = carry - q * LIMB;
      carry = q;
    }
  };
  let i = zeros;
  if ((bytes.length - i) % 2 === 1) step(bytes[i++]!, 256);
  for (; i < bytes.length; i += 2) step(bytes[i]! * 256 + bytes[i + 1]!, 65536);
  let len = 0;
  for (let j = 0; j < n; j++) {
    let v = limbs[j]!;
    const last = j === n - 1;
    for (let d = 0; d < 6; d++) {
      if (last && v === 0) break;
      const q = Math.floor(v / 58);
      digits[len++] = CODES[v - q * 58]!;
      v = q;
    }
  }
  let out = "1".repeat(zeros);
  // most significant digit first; in slices, so a long input does not overflow the argument list
  for (let k = len - 1; k >= 0; k -= 4096) {
    const from = Math.max(0, k - 4095);
    const part = digits.slice(from, k + 1).reverse();
    out += String.fromCharCode.apply(null, part as unknown as number[]);
  }
  return out;
}

const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

/** Base58 text as bytes, identical to bs58.decode (which throws on a character outside the alphabet, as this does). */
export function base58Decode(s: string): Buffer {
  const n = s.length;
  let zeros = 0;
  while (zeros < n && s.charCodeAt(zeros) === 49) zeros++;
  const limbs = new Array<number>(Math.ceil(((n - zeros) * 0.7322) / 2) + 1).fill(0);
  let len = 0;
  for (let i = zeros; i < n; ) {
    let chunk = 0;
    let mul = 1;
    for (const end = Math.min(n, i + 5); i < end; i++) {
      const c = s.charCodeAt(i);
      const d = c < 128 ? VALUE[c]! : -1;
      if (d < 0) throw new Error("Non-base58 character");
      chunk = chunk * 58 + d;
      mul *= 58;
    }
    let carry = chunk;
    for (let j = 0; j < len; j++) {
      const x = limbs[j]! * mul + carry;
      carry = Math.floor(x / 65536);
      limbs[j] = x - carry * 65536;
    }
    while (carry > 0) {
      const next = Math.floor(carry / 65536);
      limbs[len++] = carry - next * 65536;
      carry = next;
    }
  }
  let bytes = len * 2;
  if (len > 0 && limbs[len - 1]! < 256) bytes--;
  const out = Buffer.alloc(zeros + bytes);
  let o = out.length - 1;
  for (let j = 0; j < len; j++) {
    const v = limbs[j]!;
    out[o--] = v & 0xff;
    if (o >= zeros) out[o--] = v >>> 8;
  }
  return out;
}
