/**
 * Fast base58 encoding for signatures and hashes.
 * @dev bs58 (base-x) converts byte by byte in base 58 and costs about 18 µs for a 64-byte
 * signature; this version works in limbs of 58^6 (exact in doubles: 58^6 * 65536 < 2^53), several times faster.
 */

const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const LIMB = 58 ** 6;
const limbs = new Float64Array(32);
const digits = new Uint16Array(256);
const CODES = Uint16Array.from(ALPHABET, (c) => c.charCodeAt(0));

/** Encodes bytes as base58 (Bitcoin alphabet), identical to bs58.encode. */
export function base58Encode(bytes: Uint8Array): string {
  if (bytes.length > 180) throw new Error("base58Encode: input longer than 180 bytes");
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  let n = 0; // limbs in use, least significant first
  // Feed two bytes at a time: 58^6 * 65536 + carry stays below 2^53.
  let i = zeros;
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
  digits.subarray(0, len).reverse();
  const out = String.fromCharCode.apply(null, digits.subarray(0, len) as unknown as number[]);
  return "1".repeat(zeros) + out;
}
