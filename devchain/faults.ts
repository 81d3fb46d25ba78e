/**
 * Fault injection: parses `--faults` and answers "does this request/notification fail now?".
 * @dev Spec: comma-separated `key=value`. Probabilities are 0..1; durations take ms/s/m suffixes
 * (a bare number is ms). Randomness is seeded (`seed=N`) so a test run is reproducible.
 * Scripted faults (`rules`) and the request log (`log`) are set on the parsed spec object by a test that
 * starts the chain in process: `createChain({ faults: spec })` keeps that object, so rules pushed to
 * `spec.rules` later take effect at once and `spec.log.entries` fills as requests arrive.
 */

/** What a scripted rule does. HTTP-level actions answer the whole request (a batch included). */
export type FaultAction =
  /** HTTP status (429 with Retry-After seconds, 503, 404, ...) and a JSON-RPC-looking body */
  | { kind: "status"; status: number; retryAfter?: number }
  /** HTTP 502 with a proxy's HTML page */
  | { kind: "html502" }
  /** 200 with the right content-length, then the connection cut halfway through the body */
  | { kind: "truncate" }
  /** the answer is held back `ms` before it is sent */
  | { kind: "delay"; ms: number }
  /** 200 announcing a Content-Length of 5 GiB (past 32 bits), a few bytes, then the connection cut */
  | { kind: "hugeLength" }
  /** 200 with `Content-Encoding: gzip` and a small body that inflates to `mb` MiB of zeros (default 300) */
  | { kind: "gzipBomb"; mb?: number }
  /** getBlocks / getBlocksWithLimit leave out the rule's `slot`; getBlock still serves it, its child names it */
  | { kind: "omit" }
  /** call-level: a JSON-RPC error object instead of the result */
  | { kind: "error"; code: number; message?: string }
  /** call-level: a getBlock result with a protocol violation */
  | { kind: "mutate"; what: MutateWhat }
  /** call-level: the getBlock slot carries `txs` synthetic transactions (a huge block; set before it is served) */
  | { kind: "inflate"; txs: number };

/** The protocol violations of the `mutate` action; `dupTx` repeats the block's first transaction at its end. */
export type MutateWhat = "metaNull" | "noBlockhash" | "noParentSlot" | "numbersAsStrings" | "dupTx";

/** A scripted fault: calls of `method` (any when absent) for `slot` (first param; any when absent). */
export type FaultRule = {
  method?: string;
  slot?: number;
  p?: number;
  times?: number;
  action: FaultAction;
  hits?: number;
};

/** HTTP-level action kinds (the rest apply to one call of a batch). */
export const HTTP_ACTIONS = new Set<FaultAction["kind"]>([
  "status",
  "html502",
  "truncate",
  "delay",
  "hugeLength",
  "gzipBomb",
]);

/**
 * One JSON-RPC call as the chain saw it: arrival and answer time (ms; 0 = not answered yet), HTTP status, JSON-RPC
 * error code.
 */
export type RequestLogEntry = {
  request: number;
  t: number;
  sentAt: number;
  method: string;
  params: unknown;
  status: number;
  code?: number;
  batch: number;
};

/** The chain's request log (tests read `entries`). */
export type RequestLog = { entries: RequestLogEntry[] };

/** Parsed fault settings; every field is off when absent. */
export type FaultSpec = {
  /** fraction of HTTP requests answered 429 Too Many Requests */
  rate429: number;
  /** fraction of getBlock/getBlockTime calls on a fresh slot answered -32004 */
  notAvailable: number;
  /** close every WebSocket this often (ms) */
  wsDropEvery: number;
  /** how the drop closes: abnormal (TCP reset, client sees 1006), 1000 (clean), or alternate */
  wsDropCode: "abnormal" | "1000" | "alternate";
  /** stall length (ms): notifications are silently dropped while the socket stays open */
  wsStall: number;
  /** period (ms) of stalls; a stall fills the end of each period */
  wsStallEvery: number;
  /** slots (absolute, or `+K` after the first produced slot) that are confirmed and then dropped */
  forks: { slot: number; relative: boolean }[];
  /** fraction of logs notifications sent twice */
  dupLogs: number;
  /** slots counted as fresh for notAvailable */
  freshSlots: number;
  /**
   * how long (ms) after its first getBlock a fresh slot may still answer notAvailable: the node has the block a
   * moment later, as on a real cluster (without it, the last slots of a chain that stops producing stay fresh for
   * ever, and a job that drew "not available" on every attempt was dead-lettered)
   */
  freshMs: number;
  /** Retry-After (seconds) of the rate429 fault */
  retryAfter: number;
  /** fraction of slot notifications sent twice */
  dupSlots: number;
  /** end every gRPC Subscribe call this often (ms), with status UNAVAILABLE (a stream reset) */
  grpcDropEvery: number;
  /** gRPC stall length (ms): no update at all (pings included) while the call stays open */
  grpcStall: number;
  /** period (ms) of gRPC stalls; a stall fills the end of each period */
  grpcStallEvery: number;
  /** fraction of gRPC block updates sent twice */
  dupBlocks: number;
  /** slot and logs notifications are sent in a shuffled order within windows of this many slots (0/1 = in order) */
  reorderSlots: number;
  seed: number;
  /** scripted faults, matched in order; each may be limited to `times` hits */
  rules: FaultRule[];
  /** when set, every JSON-RPC call is appended to it */
  log?: RequestLog;
};

/** Parses "30s", "500ms", "2m" or a bare number of ms. */
export function parseDuration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
  if (!m) throw new Error(`bad duration ${v}`);
  const n = Number(m[1]);
  return m[2] === "s" ? n * 1000 : m[2] === "m" ? n * 60_000 : n;
}

/** Parses a `--faults` spec; throws listing every bad key. */
export function parseFaults(spec: string | undefined): FaultSpec {
  const f: FaultSpec = {
    rate429: 0,
    notAvailable: 0,
    wsDropEvery: 0,
    wsDropCode: "alternate",
    wsStall: 0,
    wsStallEvery: 0,
    forks: [],
    dupLogs: 0,
    freshSlots: 4,
    freshMs: 3_000,
    retryAfter: 1,
    dupSlots: 0,
    grpcDropEvery: 0,
    grpcStall: 0,
    grpcStallEvery: 0,
    dupBlocks: 0,
    reorderSlots: 0,
    seed: 1,
    rules: [],
  };
  if (!spec) return f;
  const bad: string[] = [];
  const prob = (k: string, v: string): number => {
    const n = Number(v);
    if (!(n >= 0 && n <= 1)) bad.push(`${k}=${v} (expected 0..1)`);
    return n;
  };
  for (const part of spec
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [k = "", v = ""] = part.split("=", 2);
    try {
      switch (k) {
        case "rate429":
          f.rate429 = prob(k, v);
          break;
        case "notAvailable":
          f.notAvailable = prob(k, v);
          break;
        case "dupLogs":
          f.dupLogs = prob(k, v);
          break;
        case "dupSlots":
          f.dupSlots = prob(k, v);
          break;
        case "dupBlocks":
          f.dupBlocks = prob(k, v);
          break;
        case "grpcDropEvery":
          f.grpcDropEvery = parseDuration(v);
          break;
        case "grpcStall":
          f.grpcStall = parseDuration(v);
          break;
        case "grpcStallEvery":
          f.grpcStallEvery = parseDuration(v);
          break;
        case "reorderSlots":
          f.reorderSlots = Number(v);
          break;
        case "retryAfter":
          f.retryAfter = parseDuration(v) / 1000;
          break;
        case "wsDropEvery":
          f.wsDropEvery = parseDuration(v);
          break;
        case "wsStall":
          f.wsStall = parseDuration(v);
          break;
        case "wsStallEvery":
          f.wsStallEvery = parseDuration(v);
          break;
        case "freshSlots":
          f.freshSlots = Number(v);
          break;
        case "freshMs":
          f.freshMs = parseDuration(v);
          break;
        case "seed":
          f.seed = Number(v);
          break;
        case "wsDropCode":
          if (v !== "abnormal" && v !== "1000" && v !== "alternate") bad.push(`${part} (abnormal|1000|alternate)`);
          else f.wsDropCode = v;
          break;
        // Hostile answers to getBlock, each a scripted rule (see FaultAction) drawn with probability P.
        case "hugeLength":
        case "gzipBomb":
          f.rules.push({ method: "getBlock", p: prob(k, v), action: { kind: k } });
          break;
        case "dupTx":
          f.rules.push({ method: "getBlock", p: prob(k, v), action: { kind: "mutate", what: "dupTx" } });
          break;
        case "omit": {
          const m = /^slot:(\d+)$/.exec(v);
          if (!m) bad.push(`${part} (expected omit=slot:N)`);
          else f.rules.push({ slot: Number(m[1]), action: { kind: "omit" } });
          break;
        }
        case "fork": {
          const m = /^slot:(\+?)(\d+)$/.exec(v);
          if (!m) bad.push(`${part} (expected fork=slot:N or fork=slot:+K)`);
          else f.forks.push({ slot: Number(m[2]), relative: m[1] === "+" });
          break;
        }
        default:
          bad.push(`${part} (unknown fault)`);
      }
    } catch (err) {
      bad.push(`${part} (${(err as Error).message})`);
    }
  }
  if (!Number.isInteger(f.reorderSlots) || f.reorderSlots < 0)
    bad.push(`reorderSlots=${f.reorderSlots} (expected a whole number)`);
  if (f.wsStall > 0 && f.wsStallEvery === 0) f.wsStallEvery = f.wsStall * 3;
  if (f.wsStallEvery > 0 && f.wsStall >= f.wsStallEvery) bad.push("wsStall must be shorter than wsStallEvery");
  if (f.grpcStall > 0 && f.grpcStallEvery === 0) f.grpcStallEvery = f.grpcStall * 3;
  if (f.grpcStallEvery > 0 && f.grpcStall >= f.grpcStallEvery)
    bad.push("grpcStall must be shorter than grpcStallEvery");
  if (bad.length) throw new Error(`invalid --faults: ${bad.join("; ")}`);
  return f;
}

/** Runtime fault decisions with a seeded generator. */
export function createFaults(spec: FaultSpec, startedAt = Date.now()) {
  let s = spec.seed >>> 0 || 1;
  const random = (): number => {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const counts = { http429: 0, notAvailable: 0, dupLogs: 0, dupSlots: 0, dupBlocks: 0, rules: 0 };
  /** When each fresh slot was first asked for (notAvailable ends freshMs later). */
  const firstAsked = new Map<number, number>();
  return {
    spec,
    counts,
    http429(): boolean {
      const hit = spec.rate429 > 0 && random() < spec.rate429;
      if (hit) counts.http429++;
      return hit;
    },
    notAvailable(slot: number, processedSlot: number): boolean {
      if (!(spec.notAvailable > 0 && slot > processedSlot - spec.freshSlots)) return false;
      const now = Date.now();
      if (!firstAsked.has(slot)) {
        for (const k of firstAsked.keys()) if (k <= processedSlot - spec.freshSlots) firstAsked.delete(k);
        firstAsked.set(slot, now);
      }
      const hit = now - firstAsked.get(slot)! < spec.freshMs && random() < spec.notAvailable;
      if (hit) counts.notAvailable++;
      return hit;
    },
    dupSlot(): boolean {
      const hit = spec.dupSlots > 0 && random() < spec.dupSlots;
      if (hit) counts.dupSlots++;
      return hit;
    },
    /** Seeded shuffle (reordered notifications). */
    shuffle<T>(items: T[]): T[] {
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [items[i], items[j]] = [items[j]!, items[i]!];
      }
      return items;
    },
    /** The first scripted rule that fires for this call at this level, counting the hit. */
    rule(method: string, params: unknown, level: "http" | "call" | "inflate"): FaultAction | undefined {
      if (spec.rules.length === 0) return undefined;
      const slot = Array.isArray(params) && typeof params[0] === "number" ? params[0] : undefined;
      for (const r of spec.rules) {
        const at = HTTP_ACTIONS.has(r.action.kind)
          ? "http"
          : r.action.kind === "inflate" || r.action.kind === "omit"
            ? r.action.kind
            : "call";
        if (at !== level) continue;
        if (r.method !== undefined && r.method !== method) continue;
        if (r.slot !== undefined && r.slot !== slot) continue;
        if (r.times !== undefined && (r.hits ?? 0) >= r.times) continue;
        if (r.p !== undefined && !(random() < r.p)) continue;
        r.hits = (r.hits ?? 0) + 1;
        counts.rules++;
        return r.action;
      }
      return undefined;
    },
    /** Whether getBlocks leaves `slot` out (an `omit` rule names it), counting the hit. */
    omitted(slot: number): boolean {
      for (const r of spec.rules) {
        if (r.action.kind !== "omit" || r.slot !== slot) continue;
        if (r.times !== undefined && (r.hits ?? 0) >= r.times) continue;
        r.hits = (r.hits ?? 0) + 1;
        counts.rules++;
        return true;
      }
      return false;
    },
    /**
     * Whether a scripted rule answers getBlock for `slot` with "skipped" (-32007, -32009) for good (no `times`, no
     * `p`): on a cluster such a slot has no block, so the block after it names the slot before it as its parent.
     * Rules with `times` are transient (the node has the block a moment later): its child names it as usual.
     */
    skippedByRule(slot: number): boolean {
      return spec.rules.some(
        (r) =>
          r.slot === slot &&
          (r.method === undefined || r.method === "getBlock") &&
          r.action.kind === "error" &&
          (r.action.code === -32007 || r.action.code === -32009) &&
          r.times === undefined &&
          r.p === undefined,
      );
    },
    dupLog(): boolean {
      const hit = spec.dupLogs > 0 && random() < spec.dupLogs;
      if (hit) counts.dupLogs++;
      return hit;
    },
    dupBlock(): boolean {
      const hit = spec.dupBlocks > 0 && random() < spec.dupBlocks;
      if (hit) counts.dupBlocks++;
      return hit;
    },
    /** Whether gRPC updates are stalled at time `now`. */
    grpcStalled(now = Date.now()): boolean {
      if (spec.grpcStall <= 0) return false;
      const phase = (now - startedAt) % spec.grpcStallEvery;
      return phase >= spec.grpcStallEvery - spec.grpcStall;
    },
    /** Whether WebSocket notifications are stalled at time `now`. */
    stalled(now = Date.now()): boolean {
      if (spec.wsStall <= 0) return false;
      const phase = (now - startedAt) % spec.wsStallEvery;
      return phase >= spec.wsStallEvery - spec.wsStall;
    },
  };
}

/** Runtime fault state. */
export type Faults = ReturnType<typeof createFaults>;
