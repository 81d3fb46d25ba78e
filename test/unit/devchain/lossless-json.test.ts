/** The local chain's JSON round trip: integers past 2^53 (rentEpoch u64::MAX, huge lamports) come back verbatim. */
import { describe, expect, test } from "vitest";
import { parseLossless, stringifyLossless, toNumber } from "../../../devchain/lossless-json.js";

describe("lossless JSON", () => {
  test("a u64 literal survives parse and stringify to the digit; safe numbers, floats and strings are untouched", () => {
    const text =
      '{"rentEpoch":18446744073709551615,"lamports":9007199254740993,"fee":5000,"ui":0.123456789,"log":"Program 11111111111111111111111111111111 invoke [1]"}';
    const parsed = parseLossless(text);
    expect(parsed.hasBigInts).toBe(true);
    expect(stringifyLossless(parsed.value)).toBe(text);
    expect(toNumber((parsed.value as { fee: unknown }).fee)).toBe(5000);
  });

  test("a text whose integers are all safe parses plainly, even with 16-digit runs in its strings", () => {
    const text = '{"mint":"So11111111111111111111111111111111111111112","amount":"18446744073709551615","n":1}';
    expect(parseLossless(text)).toEqual({ value: JSON.parse(text), hasBigInts: false });
  });
});
