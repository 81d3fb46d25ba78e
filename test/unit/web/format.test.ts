/** The dashboard's number display: exact decimal strings end to end, never through a float. */
import { describe, expect, test } from "vitest";
import { add, applyDecimals, decimal, multiply, pct, sum, usd } from "../../../web/src/format.js";

describe("web format", () => {
  test("decimal groups the integer part and truncates the fraction, keeping a small value's first digits", () => {
    expect(decimal("1234567.891234567")).toBe("1,234,567.891234");
    expect(decimal("18446744073709551615")).toBe("18,446,744,073,709,551,615");
    expect(decimal("0.000000001234")).toBe("0.00000000123");
    expect(decimal("-1000.5")).toBe("-1,000.5");
    expect(decimal("10.000")).toBe("10");
    expect(decimal(null)).toBe("–");
  });

  test("usd shows cents above 1 and significant digits below", () => {
    expect(usd("22737526.3123")).toBe("$22,737,526.31");
    expect(usd("0.0000260149")).toBe("$0.00002601");
    expect(usd("-1248.891889356067")).toBe("-$1,248.89");
    expect(usd("-0.001")).toBe("-$0.001");
    expect(usd("-0.000000000001")).toBe("-$0.000000000001");
  });

  test("pct signs a change; applyDecimals and add are exact string arithmetic", () => {
    expect(pct("12.3456")).toBe("+12.34%");
    expect(pct("-0.361")).toBe("-0.36%");
    expect(pct("0")).toBe("0%");
    expect(pct(null)).toBe("–");
    expect(applyDecimals("18446744073709551615", 9)).toBe("18446744073.709551615");
    expect(applyDecimals("5", 6)).toBe("0.000005");
    expect(applyDecimals("-5", 2)).toBe("-0.05");
    expect(applyDecimals("7", null)).toBeNull();
    expect(add(["0.1", "0.2"])).toBe("0.3");
    expect(add(["126.2", "-0.340815500001", "1"])).toBe("126.859184499999");
    expect(add([])).toBe("0");
  });

  test("multiply and sum are exact where floats are not", () => {
    // 0.1 * 3 in floats is 0.30000000000000004; u64-sized amounts lose digits as numbers
    expect(multiply("0.1", "3", 2)).toBe("0.30");
    expect(multiply("18446744073.709551615", "2", 9)).toBe("36893488147.419103230");
    expect(multiply("12.5", "0.04", 4)).toBe("0.5000");
    expect(sum(["0.10", "0.20", "1234567890123456.78"])).toBe("1234567890123457.08");
  });
});
