import { describe, expect, test } from "vitest";
import { decodeCursor, encodeCursor } from "../../../api/sql/cursor.js";
import { formatRatio, formatUnits, reservePrice } from "../../../api/graph/format.js";

describe("api cursors", () => {
  test("round-trip a position; the encoding is URL-safe and hides the key", () => {
    const c = encodeCursor("slot", [332254908, 17, "3.2"]);
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(c).not.toContain("332254908");
    expect(decodeCursor(c, "slot", ["int", "int", "text"]).key).toEqual([332254908, 17, "3.2"]);
  });

  test.each([
    ["garbage", "%%%"],
    ["not JSON", Buffer.from("nope").toString("base64url")],
    ["wrong version", Buffer.from(JSON.stringify([2, "slot", 1, 1, "1"])).toString("base64url")],
    ["wrong key length", encodeCursor("slot", [1, 1])],
    ["wrong key type", encodeCursor("slot", [1, "1", "1"])],
    ["unsafe integer", Buffer.from(JSON.stringify([1, "slot", 2 ** 60, 1, "1"])).toString("base64url")],
  ])("rejects %s with BAD_CURSOR", (_name, c) => {
    expect(() => decodeCursor(c, "slot", ["int", "int", "text"])).toThrow(
      expect.objectContaining({ extensions: { code: "BAD_CURSOR" } }),
    );
  });

  test("a numeric key (a balance) round-trips as its exact decimal string, u128 included", () => {
    const max = "340282366920938463463374607431768211455";
    expect(decodeCursor(encodeCursor("balance", [max, "owner"]), "balance", ["numeric", "text"]).key).toEqual([
      max,
      "owner",
    ]);
  });

  test.each([
    ["a fraction", "1.5"],
    ["an exponent", "1e3"],
    ["a JSON number", 5],
    ["SQL", "1)) or true--"],
    ["41 digits", "1".repeat(41)],
  ])("a numeric key that is %s is rejected with BAD_CURSOR", (_name, v) => {
    const c = Buffer.from(JSON.stringify([1, "balance", v, "owner"])).toString("base64url");
    expect(() => decodeCursor(c, "balance", ["numeric", "text"])).toThrow(
      expect.objectContaining({ extensions: { code: "BAD_CURSOR" } }),
    );
  });

  test("a cursor of another ordering is rejected", () => {
    expect(() => decodeCursor(encodeCursor("mint", ["x"]), "first_seen", ["int", "text"])).toThrow(/another ordering/);
  });
});

describe("api decimal formatting", () => {
  test("formatUnits is exact for u64 and u128", () => {
    expect(formatUnits("18446744073709551615", 9)).toBe("18446744073.709551615");
    expect(formatUnits("340282366920938463463374607431768211455", 18)).toBe("340282366920938463463.374607431768211455");
    expect(formatUnits("1500000", 6)).toBe("1.5");
    expect(formatUnits("5", 6)).toBe("0.000005");
    expect(formatUnits("0", 0)).toBe("0");
  });

  test("prices keep 18 significant digits, also for tiny ratios", () => {
    expect(formatRatio(1n, 3n)).toBe("0.333333333333333333");
    expect(formatRatio(1n, 0n)).toBeNull();
    // 100,956,880,837,469 (6 decimals) against 180,277,629,304 lamports (9 decimals)
    expect(reservePrice("100956880837469", "180277629304", 6, 9)).toBe("0.000001785689373607232176");
  });
});
