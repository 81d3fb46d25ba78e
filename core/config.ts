/**
 * The one place that reads the environment: a zod schema, parsed once at start.
 * @dev every key here is documented in .env.example and in docs/configuration.md (a test checks both).
 */
import { z } from "zod";
import { PRESET_NAMES, USDC_MINT, USDT_MINT, isAddress } from "./presets.js";

const MAINNET_RPC = "https://api.mainnet-beta.solana.com";

const url = (protocols: string[]) =>
  z.string().refine(
    (s) => {
      try {
        return protocols.includes(new URL(s).protocol);
      } catch {
        return false;
      }
    },
    { message: `expected a URL (${protocols.join(" or ")})` },
  );

const emptyAsUndefined = (v: unknown) => (v === "" ? undefined : v);
const optionalUrl = (protocols: string[]) => z.preprocess(emptyAsUndefined, url(protocols).optional());
const wholeNumber = (min: number, max: number) =>
  z
    .number({ message: `expected a whole number from ${min} to ${max}` })
    .int()
    .min(min)
    .max(max);
/** The least RETENTION_SLOTS other than 0: well past finality (32 slots) and the store's fork window. */
export const MIN_RETENTION_SLOTS = 100_000;

const int = (min: number, max: number, def: number) =>
  z.preprocess((v) => (v === undefined ? def : v === "" ? Number.NaN : Number(v)), wholeNumber(min, max));
const optionalInt = (min: number, max: number) =>
  z.preprocess((v) => (v === undefined || v === "" ? undefined : Number(v)), wholeNumber(min, max).optional());
const bool = (def: boolean) =>
  z
    .enum(["true", "false", "1", "0"], { message: "expected true or false" })
    .default(def ? "true" : "false")
    .transform((v) => v === "true" || v === "1");
const list = z.string().transform((s) =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean),
);

/** One RPC endpoint of the pool: its URL as sent (without the pool's own parameters) and its own budget. */
export type RpcEndpoint = { url: string; maxRps?: number; concurrency?: number };

/** The query parameters an endpoint entry may carry for the pool (removed before the URL is used). */
const ENDPOINT_PARAMS = { rps: [1, 100_000], concurrency: [1, 1_000] } as const;

/**
 * Parses a comma list of RPC endpoints, each `http(s)://host/path?rps=N&concurrency=M` (both optional; the
 * RPC_MAX_RPS / RPC_CONCURRENCY defaults apply). Returns the endpoints and one problem per bad entry.
 */
export function parseEndpoints(raw: string): { endpoints: RpcEndpoint[]; problems: string[] } {
  const endpoints: RpcEndpoint[] = [];
  const problems: string[] = [];
  const entries = raw
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
  if (entries.length === 0) problems.push("expected at least one http(s) URL");
  entries.forEach((entry, i) => {
    let u: URL;
    try {
      u = new URL(entry);
    } catch {
      return void problems.push(`entry ${i + 1} is not a URL (expected http or https)`);
    }
    if (u.protocol !== "http:" && u.protocol !== "https:")
      return void problems.push(`entry ${i + 1} (${u.host}): expected a URL (http: or https:)`);
    const ep: RpcEndpoint = { url: "" };
    for (const [key, [min, max]] of Object.entries(ENDPOINT_PARAMS)) {
      const v = u.searchParams.get(key);
      if (v === null) continue;
      u.searchParams.delete(key);
      const n = Number(v);
      if (!/^\d+$/.test(v) || n < min || n > max) {
        problems.push(`entry ${i + 1} (${u.host}): ${key}=${v}: expected a whole number from ${min} to ${max}`);
        continue;
      }
      if (key === "rps") ep.maxRps = n;
      else ep.concurrency = n;
    }
    ep.url = u.search === "" ? entry.replace(/\?.*$/, "") : u.toString();
    endpoints.push(ep);
  });
  return { endpoints, problems };
}

/** An endpoint list key: every entry checked, the first entry's URL (pool parameters removed) as the value. */
const endpointList = (def: string, single = false) =>
  z
    .string()
    .default(def)
    .superRefine((s, ctx) => {
      const { endpoints, problems } = parseEndpoints(s);
      if (single && endpoints.length > 1) problems.push("expected one URL (a comma list was given)");
      for (const message of problems) ctx.addIssue({ code: "custom", message });
    });

/** The schema: key -> validator, in the order .env.example lists them. */
export const configSchema = z.object({
  DATABASE_URL: url(["postgres:", "postgresql:"]).default("postgres://postgres:postgres@127.0.0.1:5432/slotline"),
  DATABASE_READ_URL: optionalUrl(["postgres:", "postgresql:"]),
  // Streaming replicas the API spreads its reads over, each served only once it has replayed what an answer needs.
  DATABASE_READ_URLS: z.preprocess(
    emptyAsUndefined,
    list.optional().superRefine((entries, ctx) => {
      for (const [i, e] of (entries ?? []).entries()) {
        let ok = false;
        try {
          ok = ["postgres:", "postgresql:"].includes(new URL(e).protocol);
        } catch {}
        if (!ok) ctx.addIssue({ code: "custom", message: `entry ${i + 1}: expected a URL (postgres: or postgresql:)` });
      }
    }),
  ),
  DATABASE_READ_MAX_LAG_MS: int(100, 3_600_000, 30_000),
  DATABASE_POOL_SIZE: int(1, 200, 10),
  DATABASE_READ_ROLE: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, "expected a role name: lower-case letters, digits and _, at most 63")
      .optional(),
  ),
  DATABASE_READ_PASSWORD: z.preprocess(emptyAsUndefined, z.string().optional()),
  REDIS_URL: url(["redis:", "rediss:"]).default("redis://127.0.0.1:6379"),
  // Sentinel (docs/scaling.md): the master named REDIS_SENTINEL_NAME, found through these; REDIS_URL's host is unused.
  REDIS_SENTINELS: z.preprocess(
    emptyAsUndefined,
    list.optional().superRefine((entries, ctx) => {
      const bad = (entries ?? []).filter((e) => !/^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/.test(e));
      if (bad.length) ctx.addIssue({ code: "custom", message: `expected host:port entries, got ${bad.join(", ")}` });
    }),
  ),
  REDIS_SENTINEL_NAME: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, "expected letters, digits, ., _ or -")
    .default("mymaster"),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, "expected letters, digits, _ or -")
    .default("slotline"),
  // The RPC endpoint pool (docs/operations.md): a comma list, each entry with its own ?rps= and ?concurrency=.
  SOLANA_RPC_URL: endpointList(MAINNET_RPC),
  SOLANA_ARCHIVE_RPC_URL: z.preprocess(emptyAsUndefined, endpointList("", true).optional()),
  SOLANA_WS_URL: optionalUrl(["ws:", "wss:"]),
  COMMITMENT: z.enum(["confirmed", "finalized"], { message: "expected confirmed or finalized" }).default("confirmed"),
  INGEST_MODE: z.enum(["block", "logs", "grpc"], { message: "expected block, logs or grpc" }).default("block"),
  // Yellowstone (Geyser) gRPC, INGEST_MODE=grpc: http(s) endpoint (https = TLS) and its x-token.
  SOLANA_GRPC_URL: optionalUrl(["http:", "https:"]),
  SOLANA_GRPC_TOKEN: z.preprocess(emptyAsUndefined, z.string().optional()),
  START_SLOT: optionalInt(0, Number.MAX_SAFE_INTEGER),
  PROGRAMS: list.default([...PRESET_NAMES]).superRefine((entries, ctx) => {
    const bad = entries.filter((e) => !PRESET_NAMES.includes(e) && !isAddress(e));
    if (bad.length > 0)
      ctx.addIssue({
        code: "custom",
        message: `unknown ${bad.join(", ")}: expected preset names (${PRESET_NAMES.join(", ")}) or program ids`,
      });
    if (entries.length === 0) ctx.addIssue({ code: "custom", message: "expected at least one program" });
  }),
  IDL_DIR: z.preprocess(emptyAsUndefined, z.string().optional()),
  WORKER_CONCURRENCY: int(1, 256, 4),
  WORKER_LOCK_MS: int(1_000, 600_000, 30_000),
  SHUTDOWN_GRACE_MS: int(100, 600_000, 15_000),
  MAX_QUEUED_JOBS: int(10, 1_000_000, 2_000),
  INGEST_POLL_MS: int(50, 60_000, 1_000),
  WS_STALL_MS: int(500, 600_000, 10_000),
  GRPC_STALL_MS: int(500, 600_000, 15_000),
  FINALITY_INTERVAL_MS: int(100, 600_000, 5_000),
  LOGS_SWEEP_MS: int(100, 600_000, 5_000),
  USD_STABLES: list.default([USDC_MINT, USDT_MINT]).superRefine((entries, ctx) => {
    const bad = entries.filter((e) => !isAddress(e));
    if (bad.length > 0) ctx.addIssue({ code: "custom", message: `not a mint address: ${bad.join(", ")}` });
  }),
  PRICE_MIN_LIQUIDITY_USD: int(0, 1_000_000_000_000, 10_000),
  // chain-clock seconds between two ranking generations written while the stage is busy; 0: one per catch-up
  RANKINGS_MIN_INTERVAL_S: int(0, 86_400, 60),
  // 0 keeps every raw row; otherwise far enough behind the resume point to be past finality and the fork window.
  RETENTION_SLOTS: int(0, Number.MAX_SAFE_INTEGER, 0).refine((v) => v === 0 || v >= MIN_RETENTION_SLOTS, {
    message: `expected 0 (keep everything) or at least ${MIN_RETENTION_SLOTS}`,
  }),
  API_PORT: int(1, 65535, 4000),
  API_KEYS: z.preprocess(emptyAsUndefined, list.optional()),
  API_CORS_ORIGINS: z.preprocess(emptyAsUndefined, list.optional()),
  API_INTROSPECTION: bool(true),
  API_PERSISTED_OPERATIONS: z.preprocess(emptyAsUndefined, z.string().optional()),
  API_MAX_BODY_BYTES: int(1_024, 100_000_000, 262_144),
  API_TRUST_PROXY: bool(false),
  API_TRUSTED_PROXIES: int(1, 16, 1),
  API_SLOW_QUERY_CONCURRENCY: int(0, 200, 1),
  API_RATE_LIMIT: int(0, 100_000_000, 50_000),
  API_SQL_MODE: z.enum(["pipelined", "plain"], { message: "expected pipelined or plain" }).default("pipelined"),
  API_MAX_SUBSCRIPTIONS: int(1, 1_000_000, 10_000),
  API_SUBSCRIPTIONS_PER_CLIENT: int(1, 10_000, 20),
  API_SUBSCRIPTIONS_PER_SOCKET: int(1, 10_000, 10),
  API_WS_MAX_MESSAGE_BYTES: int(1_024, 16 * 1024 * 1024, 65_536),
  API_WS_IDLE_MS: int(1_000, 3_600_000, 60_000),
  API_METRICS_KEY: z.preprocess(emptyAsUndefined, z.string().min(16).optional()),
  API_METRICS_PORT: int(0, 65535, 0),
  API_MAX_CONNECTIONS: int(1, 1_000_000, 10_000),
  API_DB_MAX_WAITING: int(1, 100_000, 500),
  API_CACHE_REDIS_MAX_MB: int(0, 65_536, 64),
  METRICS_PORT: int(0, 65535, 9464),
  LOG_LEVEL: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
      message: "expected fatal, error, warn, info, debug, trace or silent",
    })
    .default("info"),
  LOG_FORMAT: z.enum(["json", "pretty"], { message: "expected json or pretty" }).default("json"),
  RPC_MAX_RPS: int(1, 100_000, 40),
  RPC_CONCURRENCY: int(1, 1_000, 8),
  RPC_BATCH_SIZE: int(1, 1_000, 50),
  RPC_TIMEOUT_MS: int(100, 600_000, 30_000),
  RPC_MAX_ANSWER_MB: int(1, 4_096, 256),
});

/** The parsed, typed configuration. */
export type Config = z.output<typeof configSchema> & {
  SOLANA_WS_URL: string;
  /** SOLANA_RPC_URL's entries; SOLANA_RPC_URL itself is the first entry's URL */
  SOLANA_RPC_ENDPOINTS: RpcEndpoint[];
  /** SOLANA_ARCHIVE_RPC_URL's entry, when set */
  SOLANA_ARCHIVE_RPC: RpcEndpoint | undefined;
};

/** A config error: `issues` names every bad key with what it expected. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly issues: { key: string; message: string }[]) {
    super(`invalid configuration:\n${issues.map((i) => `  ${i.key}: ${i.message}`).join("\n")}`);
  }
}

/** Derives the WebSocket URL from the RPC URL as web3.js v1 does: ws(s) scheme, explicit port + 1. */
export function deriveWsUrl(rpcUrl: string): string {
  const u = new URL(rpcUrl);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  if (u.port !== "") u.port = String(Number(u.port) + 1);
  return u.toString().replace(/\/$/, u.pathname === "/" ? "" : "/");
}

/** Parses an environment (normally process.env) into a Config, or throws ConfigError naming every bad key. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  // An empty string for a key with a default means "not set": treat it as a missing value, which is an error
  // only where the key is required. Keys like REDIS_URL= are reported, so a blank override is never silent.
  const result = configSchema.safeParse(env);
  const issues = result.success
    ? []
    : result.error.issues.map((i) => ({ key: String(i.path[0] ?? "(env)"), message: i.message }));
  // A role `slotline migrate` would create without a password could not log in with one.
  if (env.DATABASE_READ_ROLE && !env.DATABASE_READ_PASSWORD)
    issues.push({ key: "DATABASE_READ_PASSWORD", message: "required when DATABASE_READ_ROLE is set" });
  if (env.INGEST_MODE === "grpc" && !env.SOLANA_GRPC_URL)
    issues.push({ key: "SOLANA_GRPC_URL", message: "required when INGEST_MODE is grpc" });
  if (!result.success || issues.length) throw new ConfigError(issues);
  const c = result.data;
  const endpoints = parseEndpoints(c.SOLANA_RPC_URL).endpoints;
  const archive = c.SOLANA_ARCHIVE_RPC_URL ? parseEndpoints(c.SOLANA_ARCHIVE_RPC_URL).endpoints : [];
  const first = endpoints[0]!.url;
  return {
    ...c,
    SOLANA_RPC_URL: first,
    SOLANA_ARCHIVE_RPC_URL: archive[0]?.url,
    SOLANA_RPC_ENDPOINTS: endpoints,
    SOLANA_ARCHIVE_RPC: archive[0],
    SOLANA_WS_URL: c.SOLANA_WS_URL ?? deriveWsUrl(first),
  };
}

/** Key names, in schema order: what .env.example and the table in docs/configuration.md must list (a test checks). */
export function configKeys(): string[] {
  return Object.keys(configSchema.shape);
}
