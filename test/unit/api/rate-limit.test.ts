import { describe, expect, test } from "vitest";
import { tokensExceed } from "../../../api/guard-plugin.js";
import { clientIdentity, createRateLimiter, keyMatches, presentedKey } from "../../../api/rate-limit.js";

describe("api rate limit", () => {
  test("a bucket spends cost units, refuses with a wait time, and refills over the window", () => {
    let now = 0;
    const l = createRateLimiter({ capacity: 100, windowMs: 10_000, minCost: 10 }, () => now);
    expect(l.take("a", 60)).toEqual({ ok: true });
    expect(l.take("a", 1)).toEqual({ ok: true }); // charged the minimum, 10
    expect(l.take("a", 40)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(l.take("b", 100)).toEqual({ ok: true }); // another client has its own budget
    now = 1_000; // +10 units
    expect(l.take("a", 40)).toEqual({ ok: true });
    expect(l.take("a", 100)).toMatchObject({ ok: false, retryAfterSeconds: 10 });
  });

  test("identity: the key when keys are on, else the IP; X-Forwarded-For only behind a trusted proxy", () => {
    const h = new Headers({ "x-forwarded-for": "203.0.113.9, 10.0.0.1" });
    expect(clientIdentity(h, "10.0.0.1", { trustProxy: false, key: null })).toBe("ip:10.0.0.1");
    expect(clientIdentity(h, "10.0.0.1", { trustProxy: true, key: null })).toBe("ip:203.0.113.9");
    expect(clientIdentity(h, "10.0.0.1", { trustProxy: true, key: "k1" })).toBe("key:k1");
  });

  test("keys: x-api-key or Bearer, compared exactly", () => {
    expect(presentedKey(new Headers({ authorization: "Bearer abc" }))).toBe("abc");
    expect(keyMatches("abc", ["xyz", "abc"])).toBe(true);
    expect(keyMatches("ab", ["abc"])).toBe(false);
    expect(keyMatches(null, ["abc"])).toBe(false);
  });

  test("token counting stops at the limit and ignores comments", () => {
    expect(tokensExceed(`{ a b c }`, 5)).toBe(false); // { a b c } = 5 tokens
    expect(tokensExceed(`{ a b c d }`, 5)).toBe(true);
    expect(tokensExceed(`{ a } # ${"x ".repeat(1000)}`, 5)).toBe(false);
  });
});
