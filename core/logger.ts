/** The root pino logger: JSON to stdout (or pino-pretty), with every configured secret scrubbed from every line. */
import { pino, type Logger } from "pino";
import pretty from "pino-pretty";
import type { Config } from "./config.js";

export type { Logger };

const REDACTED = "[redacted]";

/** Shows a URL without its secrets: password, path and query (RPC providers put API keys there). */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) u.password = "***";
    const secretPath = u.pathname !== "/" && u.pathname !== "" && /^https?:|^wss?:/.test(u.protocol);
    if (secretPath) u.pathname = "/***";
    if (u.search) u.search = "?***";
    return u.toString();
  } catch {
    return REDACTED;
  }
}

/** The secret fragments of the configured URLs and keys: they never reach a log line. */
export function secretsOf(config: Partial<Config>): string[] {
  const secrets = new Set<string>();
  const urls = [
    config.DATABASE_URL,
    config.DATABASE_READ_URL,
    config.REDIS_URL,
    config.SOLANA_RPC_URL,
    config.SOLANA_WS_URL,
    config.SOLANA_ARCHIVE_RPC_URL,
    config.SOLANA_GRPC_URL,
    ...(config.SOLANA_RPC_ENDPOINTS ?? []).map((e) => e.url),
  ];
  for (const raw of urls) {
    if (!raw) continue;
    try {
      const u = new URL(raw);
      if (u.password) secrets.add(u.password).add(decodeURIComponent(u.password));
      if (u.search.length > 1) secrets.add(u.search.slice(1));
      if (/^https?:|^wss?:/.test(u.protocol) && u.pathname.length > 1) secrets.add(u.pathname.slice(1));
    } catch {
      // an unparsable URL is a config error, reported elsewhere
    }
  }
  if (config.DATABASE_READ_PASSWORD) secrets.add(config.DATABASE_READ_PASSWORD);
  if (config.SOLANA_GRPC_TOKEN) secrets.add(config.SOLANA_GRPC_TOKEN);
  if (config.API_METRICS_KEY) secrets.add(config.API_METRICS_KEY);
  for (const key of config.API_KEYS ?? []) secrets.add(key);
  // Short fragments (e.g. a password "x") would scrub unrelated text; they are still hidden by redactUrl paths.
  return [...secrets].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
}

/** Replaces every secret in a serialized line. */
export function scrub(line: string, secrets: readonly string[]): string {
  let out = line;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
  return out;
}

/** Creates the root logger; child loggers per stage: `logger.child({ stage: "store" })`. */
export function createLogger(
  config: Pick<Config, "LOG_LEVEL" | "LOG_FORMAT"> & Partial<Config>,
  dest: { write(line: string): unknown } = process.stdout,
): Logger {
  const secrets = secretsOf(config);
  const sink = config.LOG_FORMAT === "pretty" ? pretty({ colorize: process.stdout.isTTY, destination: 1 }) : dest;
  const stream = { write: (line: string) => void sink.write(scrub(line, secrets)) };
  return pino(
    {
      level: config.LOG_LEVEL,
      base: { service: "slotline" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ["*.password", "*.apiKey", "*.api_key", "headers.authorization", 'headers["x-api-key"]'],
        censor: REDACTED,
      },
    },
    stream,
  );
}
