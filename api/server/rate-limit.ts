/**
 * API keys and per-client rate limiting. Budgets are counted in cost units (see guards.ts), so aliases,
 * big pages and repeated requests all spend the same budget.
 * @dev buckets live in this process: behind a load balancer each process enforces its own share.
 */
import { timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

/**
 * Token-bucket settings: `capacity` cost units, refilled fully every `windowMs`; each request costs at least `minCost`
 * (at most `capacity`).
 */
export type RateLimitOptions = { capacity: number; windowMs: number; minCost: number };

/** How much of a minute's budget a client may spend at once: a bucket holds this many ms of refill. */
export const BURST_MS = 10_000;

/**
 * A budget of `units` cost units a minute per client (API_RATE_LIMIT), at least 10 per request, of which at most
 * 10 seconds' worth at once: a client that bursts is cut off within seconds, not after a minute's budget.
 */
export function perMinute(units: number): RateLimitOptions {
  return { capacity: (units * BURST_MS) / 60_000, windowMs: BURST_MS, minCost: 10 };
}

/** 50,000 cost units a minute per client (8,333 at once), at least 10 per request. */
export const DEFAULT_RATE_LIMIT: RateLimitOptions = perMinute(50_000);

/**
 * A limiter: take() spends budget or says how long to wait; exhausted() says, without spending, whether the client's
 * next request would be refused anyway.
 */
export type RateLimiter = {
  take(client: string, cost: number): { ok: true } | { ok: false; retryAfterSeconds: number };
  /**
   * Seconds until `client` can afford what it was last refused for (or, never refused since its last answer, the
   * minimum cost), or null when it can now. Checked before a request is parsed: a client repeating a refused request
   * is refused again without a parse.
   */
  exhausted(client: string): number | null;
};

/** Creates an in-memory token-bucket limiter. */
export function createRateLimiter(opts: RateLimitOptions, now: () => number = Date.now): RateLimiter {
  // owed: the spend of the last refused request, until one is answered (0: none)
  const buckets = new Map<string, { tokens: number; at: number; owed: number }>();
  const rate = opts.capacity / opts.windowMs;
  const waitFor = (spend: number, tokens: number) => Math.max(1, Math.ceil((spend - tokens) / rate / 1000));
  return {
    take(client, cost) {
      const t = now();
      // a request dearer than a full bucket (a small budget, a query near the cost limit) needs a full bucket
      const spend = Math.min(opts.capacity, Math.max(opts.minCost, cost));
      let b = buckets.get(client);
      if (!b) {
        // Forget full buckets now and then, so one-off clients do not accumulate.
        if (buckets.size > 10_000)
          for (const [k, v] of buckets) if (v.tokens + (t - v.at) * rate >= opts.capacity) buckets.delete(k);
        b = { tokens: opts.capacity, at: t, owed: 0 };
        buckets.set(client, b);
      }
      b.tokens = Math.min(opts.capacity, b.tokens + (t - b.at) * rate);
      b.at = t;
      if (b.tokens >= spend) {
        b.tokens -= spend;
        b.owed = 0;
        return { ok: true };
      }
      b.owed = spend;
      return { ok: false, retryAfterSeconds: waitFor(spend, b.tokens) };
    },
    exhausted(client) {
      const b = buckets.get(client);
      if (!b) return null;
      const tokens = Math.min(opts.capacity, b.tokens + (now() - b.at) * rate);
      const least = Math.min(opts.capacity, Math.max(opts.minCost, b.owed));
      return tokens >= least ? null : waitFor(least, tokens);
    },
  };
}

/** Checks a presented key against the configured ones in constant time per key. */
export function keyMatches(presented: string | null, keys: readonly string[]): boolean {
  if (!presented) return false;
  const p = Buffer.from(presented);
  let ok = false;
  for (const k of keys) {
    const b = Buffer.from(k);
    if (b.length === p.length && timingSafeEqual(b, p)) ok = true;
  }
  return ok;
}

/** The key a request presents: `x-api-key`, or `Authorization: Bearer <key>`. */
export function presentedKey(headers: Headers): string | null {
  const direct = headers.get("x-api-key");
  if (direct) return direct;
  const auth = headers.get("authorization");
  const m = auth ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
  return m ? m[1]! : null;
}

/**
 * Who a request is, for rate limiting: its API key when keys are on, else its IP, an IPv6 client by its /64 (one
 * host holds a whole /64: counting each address apart would give it 2^64 budgets). Behind `trustProxy` proxies
 * (true: 1), the IP is the trustProxy-th X-Forwarded-For entry from the right, the one the outermost trusted proxy
 * appended; entries left of it are the client's own writing, so the first entry is never trusted.
 */
export function clientIdentity(
  headers: Headers,
  remoteAddress: string | undefined,
  opts: { trustProxy: boolean | number; key: string | null },
): string {
  if (opts.key) return `key:${opts.key}`;
  const hops = opts.trustProxy === true ? 1 : opts.trustProxy === false ? 0 : opts.trustProxy;
  if (hops > 0) {
    const entries = headers.get("x-forwarded-for")?.split(",");
    // Fewer entries than proxies: the leftmost was still written by one of them (a client can only add to the left).
    const entry = entries?.[Math.max(0, entries.length - hops)]?.trim();
    if (entry && isIP(entry)) return `ip:${addressGroup(entry)}`;
  }
  return `ip:${remoteAddress ? addressGroup(remoteAddress) : "unknown"}`;
}

/** An IPv4 address as is (also when IPv4-mapped, `::ffff:a.b.c.d`); an IPv6 one as its /64 (`2001:db8:0:1::/64`). */
export function addressGroup(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIP(address) !== 6) return address;
  const [head = "", tail] = address.split("%")[0]!.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  // "::" stands for the zero groups that bring the address to 8 (a trailing dotted quad counts as two).
  const width = right.reduce((n, g) => n + (g.includes(".") ? 2 : 1), 0);
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - width).fill("0"), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}
