import bs58 from "bs58";
import { describe, expect, test } from "vitest";
import { base58Decode } from "../../../indexer/decode/tx-view.js";
import { allFixtureTxs } from "./fixture-txs.js";

describe("base58Decode", () => {
  test("equals bs58 on random bytes of every length up to 300, leading zeros included", () => {
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) & 0xff;
    for (let len = 0; len <= 300; len++) {
      for (let k = 0; k < 4; k++) {
        const bytes = Uint8Array.from({ length: len }, (_, i) => (k === 1 && i < 3 ? 0 : k === 2 ? 255 : rnd()));
        const s = bs58.encode(bytes);
        expect(base58Decode(s), `${len}/${k}: ${s}`).toEqual(bs58.decode(s));
      }
    }
    expect(base58Decode("")).toEqual(new Uint8Array(0));
    expect(base58Decode("1111")).toEqual(new Uint8Array(4));
  });

  test("rejects characters outside the alphabet, as bs58 does", () => {
    for (const bad of ["0", "O", "I", "l", "abc+", "é", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy!"]) {
      expect(base58Decode(bad)).toBeUndefined();
      expect(() => bs58.decode(bad)).toThrow();
    }
  });

  test("equals bs58 on the instruction data of every fixture transaction", () => {
    let n = 0;
    for (const { tx } of allFixtureTxs()) {
      const ixs = [
        ...tx.transaction.message.instructions,
        ...(tx.meta?.innerInstructions ?? []).flatMap((g) => g.instructions),
      ];
      for (const ix of ixs) {
        expect(base58Decode(ix.data)).toEqual(bs58.decode(ix.data));
        n++;
      }
    }
    expect(n).toBeGreaterThan(1_000);
  });
});
