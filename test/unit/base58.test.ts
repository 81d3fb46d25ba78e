/**
 * core/base58, the one fast base58 of the indexer (Geyser answers) and the local chain (its Geyser server): equal to
 * bs58 both ways on every length up to 300 bytes (the limbs carry across many steps), leading zeros included, and
 * it refuses what bs58 refuses.
 */
import bs58 from "bs58";
import { describe, expect, test } from "vitest";
import { base58Decode, base58Encode } from "../../core/base58.js";
import { keyText } from "../../indexer/source/base58.js";

describe("core/base58", () => {
  let seed = 11;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) & 0xff;
  const samples = Array.from({ length: 301 }, (_, len) =>
    [0, 1, 2, 3].map((k) => Uint8Array.from({ length: len }, (_, i) => (k === 1 && i < 3 ? 0 : k === 2 ? 255 : rnd()))),
  ).flat();

  test("encodes as bs58 does", () => {
    for (const b of samples) expect(base58Encode(b), `${b.length} bytes`).toBe(bs58.encode(b));
    expect(base58Encode(new Uint8Array(0))).toBe("");
    expect(base58Encode(new Uint8Array(4))).toBe("1111");
  });

  test("decodes as bs58 does, and refuses a character outside the alphabet", () => {
    for (const b of samples) {
      const s = bs58.encode(b);
      expect(base58Decode(s), s).toEqual(Buffer.from(bs58.decode(s)));
    }
    for (const bad of ["0", "O", "I", "l", "abc!", "é"]) expect(() => base58Decode(bad), bad).toThrow();
  });

  test("keyText is base58Encode, remembered", () => {
    for (const b of samples.filter((x) => x.length <= 64)) {
      expect(keyText(b)).toBe(bs58.encode(b));
      expect(keyText(Buffer.from(b))).toBe(bs58.encode(b));
    }
  });
});
