/**
 * Reads spread over streaming replicas, never staler than what the API has been told is stored. The indexer's events
 * carry the primary's WAL position after their batch committed (`lsn`); the API raises a floor to each one before it
 * serves anything for that event (a cache generation, a subscription item). A checkout goes to a replica whose replay
 * position (`pg_last_wal_replay_lsn()`, probed) is at or past the floor, round robin; when none is, to the primary.
 * @dev the known replay position is a lower bound (it only grows between probes), so a replica chosen by it holds
 * every batch up to the floor. A replica whose probe or checkout fails is out until a probe answers again; one whose
 * replay stays behind the floor longer than `maxLagMs` is reported out ("behind") until it reaches the floor.
 */
import pg from "pg";
import { parseLsn } from "../../core/events.js";

/** What a replica is doing, as the router sees it: serving, unreachable, or too far behind. */
export type ReplicaState = "up" | "down" | "behind";

/** One replica as reported (metrics, logs). */
export type ReplicaStatus = { name: string; state: ReplicaState; lagMs: number; reads: number };

/** Options of createReadPools. */
export type ReadPoolsOptions = {
  /** behind the floor longer than this: reported out (DATABASE_READ_MAX_LAG_MS; default 30 s) */
  maxLagMs?: number;
  /** how often each replica's replay position is read (default 500 ms; sooner after the floor rises) */
  probeMs?: number;
  /** a replica changed state (taken out, put back) */
  onState?: (name: string, state: ReplicaState, previous: ReplicaState) => void;
};

/** The API's read targets: the primary (or its DATABASE_READ_URL) and any replicas. */
export type ReadPools = {
  /** a connection for the next statements, on a server that has replayed the floor; `pool` is where it came from */
  connect(): Promise<{ client: pg.PoolClient; pool: pg.Pool }>;
  /** raises the floor to `lsn` (an event's): reads from now on reflect that batch */
  require(lsn: string): void;
  /** the primary's pool (status reads, the read-only checks) */
  primary: pg.Pool;
  replicas(): ReplicaStatus[];
  /** checkouts the primary served */
  primaryReads(): number;
  /** resolves once the floor has been set to the primary's position at start (or that read failed) */
  ready: Promise<void>;
  close(): Promise<void>;
};

type Replica = {
  name: string;
  pool: pg.Pool;
  config: pg.ClientConfig;
  state: ReplicaState;
  /** replay position at the last probe; -1n: not known */
  lsn: bigint;
  probing: boolean;
  reads: number;
};

const PROBE_TIMEOUT_MS = 2_000;
/** Floors raised within this long of each other share one early probe. */
const EARLY_PROBE_MS = 20;
/** Floor history kept to measure lag in time; older entries go first. */
const MAX_HISTORY = 4_096;

/** A replica's name in metrics and logs: host:port/database, never its credentials. */
export function replicaName(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || "5432"}${u.pathname}`;
}

/** The read targets over `primary` and `replicas` (pools from createReadPool, with their URLs for the probes). */
export function createReadPools(
  primary: pg.Pool,
  replicaPools: { url: string; pool: pg.Pool }[],
  opts: ReadPoolsOptions = {},
): ReadPools {
  const maxLagMs = opts.maxLagMs ?? 30_000;
  const probeMs = opts.probeMs ?? 500;
  const replicas: Replica[] = replicaPools.map(({ url, pool }) => ({
    name: replicaName(url),
    pool,
    config: { connectionString: url, connectionTimeoutMillis: PROBE_TIMEOUT_MS, query_timeout: PROBE_TIMEOUT_MS },
    state: "down",
    lsn: -1n,
    probing: false,
    reads: 0,
  }));
  let floor = 0n;
  /** When each raise of the floor happened: a replica's lag is the age of the oldest floor it has not reached. */
  const history: { lsn: bigint; at: number }[] = [];
  let next = 0;
  let primaryReads = 0;
  let closed = false;

  const lagMs = (r: Replica) => {
    if (r.lsn >= floor) return 0;
    const first = history.find((h) => h.lsn > r.lsn);
    return first ? performance.now() - first.at : 0;
  };
  const setState = (r: Replica, state: ReplicaState) => {
    if (r.state === state) return;
    const previous = r.state;
    r.state = state;
    opts.onState?.(r.name, state, previous);
  };
  const judge = (r: Replica) => {
    if (r.state === "down") return;
    setState(r, r.lsn < floor && lagMs(r) > maxLagMs ? "behind" : "up");
  };

  const probe = async (r: Replica) => {
    if (r.probing || closed) return;
    r.probing = true;
    const c = new pg.Client(r.config);
    c.on("error", () => {});
    try {
      await c.connect();
      const row = (await c.query<{ lsn: string | null }>("select pg_last_wal_replay_lsn()::text as lsn")).rows[0];
      // null: not a standby (a promoted replica, or the primary named twice), which holds everything committed
      const lsn = row?.lsn == null ? 1n << 63n : (parseLsn(row.lsn) ?? -1n);
      if (lsn > r.lsn) r.lsn = lsn;
      if (r.state === "down") setState(r, "up");
      judge(r);
    } catch {
      r.lsn = -1n;
      setState(r, "down");
    } finally {
      r.probing = false;
      await c.end().catch(() => {});
    }
  };
  const probeAll = () => Promise.all(replicas.map(probe));
  const timer = replicas.length ? setInterval(() => void probeAll(), probeMs) : null;
  timer?.unref();
  let early: NodeJS.Timeout | null = null;
  const probeSoon = () => {
    if (early || closed) return;
    early = setTimeout(() => {
      early = null;
      void Promise.all(replicas.filter((r) => r.state !== "down" && r.lsn < floor).map(probe));
    }, EARLY_PROBE_MS);
    early.unref();
  };

  const raise = (lsn: bigint) => {
    if (lsn <= floor) return;
    floor = lsn;
    history.push({ lsn, at: performance.now() });
    // entries every live replica has passed tell no lag any more
    const passed = replicas.filter((r) => r.state !== "down").reduce((m, r) => (r.lsn < m ? r.lsn : m), floor);
    while (history.length > MAX_HISTORY || (history.length > 1 && history[0]!.lsn <= passed)) history.shift();
    if (replicas.some((r) => r.state !== "down" && r.lsn < floor)) probeSoon();
  };

  // The primary's position at start: an API started after the indexer stopped serves nothing older than it.
  const ready = (async () => {
    if (!replicas.length) return;
    try {
      const r = await primary.query<{ lsn: string }>(
        "select case when pg_is_in_recovery() then pg_last_wal_replay_lsn() else pg_current_wal_lsn() end::text as lsn",
      );
      const lsn = r.rows[0]?.lsn ? parseLsn(r.rows[0].lsn) : null;
      if (lsn !== null) raise(lsn);
    } catch {
      // the first event sets the floor
    }
    await probeAll();
  })();

  const fromPrimary = async () => {
    primaryReads++;
    return { client: await primary.connect(), pool: primary };
  };
  return {
    primary,
    ready,
    async connect() {
      for (let i = 0; i < replicas.length; i++) {
        const r = replicas[(next + i) % replicas.length]!;
        if (r.state !== "up" || r.lsn < floor) continue;
        next = (next + i + 1) % replicas.length;
        try {
          const client = await r.pool.connect();
          r.reads++;
          return { client, pool: r.pool };
        } catch (err) {
          // a full wait queue is load, not a failure: the primary takes this one
          if ((err as { extensions?: { code?: string } }).extensions?.code !== "OVERLOADED") {
            r.lsn = -1n;
            setState(r, "down");
          }
          return fromPrimary();
        }
      }
      return fromPrimary();
    },
    require(lsn) {
      const n = parseLsn(lsn);
      if (n !== null) raise(n);
    },
    replicas: () =>
      replicas.map((r) => {
        judge(r);
        return { name: r.name, state: r.state, lagMs: r.state === "down" ? 0 : lagMs(r), reads: r.reads };
      }),
    primaryReads: () => primaryReads,
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      if (early) clearTimeout(early);
      await Promise.all(replicas.map((r) => r.pool.end().catch(() => {})));
    },
  };
}

/** Where a reader takes its connections: one pool, or the read pools' choice per checkout. */
export type ReadSource = Pick<ReadPools, "connect">;

/** A single pool as read targets: every checkout from it (no replicas). */
export function singlePool(pool: pg.Pool): ReadSource {
  return { connect: async () => ({ client: await pool.connect(), pool }) };
}

const singles = new WeakMap<pg.Pool, ReadSource>();

/**
 * A pool or read pools as a source of connections; one object per pool, since the pipelined path groups the
 * statements of requests by their source.
 */
export function sourceOf(from: pg.Pool | ReadSource): ReadSource {
  if (!("idleCount" in from)) return from;
  let s = singles.get(from);
  if (!s) singles.set(from, (s = singlePool(from)));
  return s;
}
