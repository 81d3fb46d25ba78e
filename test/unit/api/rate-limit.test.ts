import { describe, expect, test } from "vitest";
import { tokensExceed } from "../../../api/server/guard-plugin.js";
import {
  DEFAULT_RATE_LIMIT,
  addressGroup,
  clientIdentity,
  createRateLimiter,
  keyMatches,
  perMinute,
  presentedKey,
} from "../../../api/server/rate-limit.js";

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

  test("a budget a minute holds 10 s of it at once; a request dearer than a full bucket needs, and empties, a full one", () => {
    expect(perMinute(60_000)).toEqual({ capacity: 10_000, windowMs: 10_000, minCost: 10 });
    expect(DEFAULT_RATE_LIMIT).toEqual(perMinute(50_000));
    let now = 0;
    const l = createRateLimiter(perMinute(600), () => now); // 100 units at once, 10 a second
    expect(l.take("a", 5_000)).toEqual({ ok: true });
    expect(l.take("a", 10)).toEqual({ ok: false, retryAfterSeconds: 1 });
    now = 9_000;
    expect(l.take("a", 5_000)).toEqual({ ok: false, retryAfterSeconds: 1 });
    now = 10_000;
    expect(l.take("a", 5_000)).toEqual({ ok: true });
  });

  test("exhausted(): without spending, whether even the minimum cost is out of reach, and for how long", () => {
    let now = 0;
    const l = createRateLimiter({ capacity: 100, windowMs: 10_000, minCost: 10 }, () => now);
    expect(l.exhausted("a")).toBeNull(); // an unknown client has a full bucket
    expect(l.take("a", 95)).toEqual({ ok: true });
    expect(l.exhausted("a")).toBe(1); // 5 left, 10 needed: 0.5 s
    expect(l.exhausted("a")).toBe(1); // asking spends nothing
    now = 500;
    expect(l.exhausted("a")).toBeNull();
    expect(l.take("a", 10)).toEqual({ ok: true });
  });

  test("exhausted(): a client refused for a request stays refused before parsing until it can afford that request", () => {
    let now = 0;
    const l = createRateLimiter({ capacity: 100, windowMs: 10_000, minCost: 10 }, () => now); // 10 units a second
    expect(l.take("a", 90)).toEqual({ ok: true });
    expect(l.exhausted("a")).toBeNull(); // 10 left: the minimum is affordable
    expect(l.take("a", 40)).toEqual({ ok: false, retryAfterSeconds: 3 });
    expect(l.exhausted("a")).toBe(3); // 10 left, 40 owed
    now = 2_000;
    expect(l.exhausted("a")).toBe(1); // 30 left
    now = 3_000;
    expect(l.exhausted("a")).toBeNull();
    expect(l.take("a", 40)).toEqual({ ok: true });
    expect(l.take("a", 10)).toEqual({ ok: false, retryAfterSeconds: 1 }); // 0 left
    now = 4_000;
    expect(l.exhausted("a")).toBeNull(); // owes 10, has 10
    expect(l.take("a", 10)).toEqual({ ok: true });
    expect(l.exhausted("a")).toBe(1); // answered: back to the minimum, 0 left
  });

  test("identity: the key when keys are on, else the IP; X-Forwarded-For only behind a trusted proxy", () => {
    // the client sent "203.0.113.9"; our one proxy appended the address it saw, 198.51.100.7
    const h = new Headers({ "x-forwarded-for": "203.0.113.9, 198.51.100.7" });
    expect(clientIdentity(h, "10.0.0.1", { trustProxy: false, key: null })).toBe("ip:10.0.0.1");
    expect(clientIdentity(h, "10.0.0.1", { trustProxy: true, key: null })).toBe("ip:198.51.100.7");
    expect(clientIdentity(h, "10.0.0.1", { trustProxy: true, key: "k1" })).toBe("key:k1");
  });

  test("X-Forwarded-For: the N-th entry from the right behind N proxies; what the client writes to the left is ignored", () => {
    const id = (xff: string, trustProxy: number | boolean) =>
      clientIdentity(new Headers({ "x-forwarded-for": xff }), "10.0.0.1", { trustProxy, key: null });
    // a client varying a forged first entry stays one client
    expect(id("1.1.1.1, 198.51.100.7", 1)).toBe("ip:198.51.100.7");
    expect(id("2.2.2.2, 198.51.100.7", 1)).toBe("ip:198.51.100.7");
    // two proxies: the outer one appended the client's address, the inner one the outer's
    expect(id("1.1.1.1, 198.51.100.7, 10.0.0.2", 2)).toBe("ip:198.51.100.7");
    expect(id("198.51.100.7", 2)).toBe("ip:198.51.100.7");
    // not an address: the socket's
    expect(id("1.1.1.1, nonsense", 1)).toBe("ip:10.0.0.1");
  });

  test("IPv6 clients count by their /64; IPv4 and IPv4-mapped addresses by the address", () => {
    expect(addressGroup("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(addressGroup("2001:db8:1:2:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(addressGroup("2001:0db8:0000:0002::")).toBe("2001:db8:0:2::/64");
    expect(addressGroup("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressGroup("::1")).toBe("0:0:0:0::/64");
    expect(addressGroup("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(addressGroup("192.0.2.1")).toBe("192.0.2.1");
    const id = (remote: string) => clientIdentity(new Headers(), remote, { trustProxy: false, key: null });
    expect(id("2001:db8:1:2::5")).toBe(id("2001:db8:1:2:9:9:9:9"));
    expect(id("2001:db8:1:2::5")).not.toBe(id("2001:db8:1:3::5"));
    const fwd = new Headers({ "x-forwarded-for": "2001:db8:7:7::42" });
    expect(clientIdentity(fwd, "10.0.0.1", { trustProxy: 1, key: null })).toBe("ip:2001:db8:7:7::/64");
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
