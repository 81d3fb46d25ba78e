/**
 * Base58 (Bitcoin alphabet) encoding for the Geyser answers (geyser-block.ts), identical to bs58.encode and several
 * times faster: bs58 (base-x) converts byte by byte in base 58, this works two bytes at a time into limbs of 58^6
 * (exact in doubles: 58^6 x 65536 + carry < 2^53). A block update of 1,920 transactions had 200,000 keys,
 * signatures and instruction data to encode; with bs58 that was most of its conversion time.
 * @dev Account keys repeat across a block's transactions (programs, mints, pools, signers): keyText remembers the
 * text of recent 32-byte keys, cleared when it fills.
 */

const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const CODES = Uint16Array.from(ALPHABET, (c) => c.charCodeAt(0));
const LIMB = 58 ** 6;
const KEY_CACHE_MAX = 100_000;

let limbs = new Float64Array(64);
let digits = new Uint16Array(512);

/** Bytes as base58 text. */
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

const keys = new Map<string, string>();

/** A 32-byte account key (or any short byte string) as base58 text, remembered. */
export function keyText(bytes: Uint8Array): string {
  const id = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1");
  let text = keys.get(id);
  if (text === undefined) {
    if (keys.size >= KEY_CACHE_MAX) keys.clear();
    text = base58Encode(bytes);
    keys.set(id, text);
  }
  return text;
}
