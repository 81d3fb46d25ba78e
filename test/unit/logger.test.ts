import { describe, expect, test } from "vitest";
import { parseConfig } from "../../core/config.js";
import { createLogger, redactUrl } from "../../core/logger.js";

function capture(env: Record<string, string>) {
  const lines: string[] = [];
  const config = parseConfig(env);
  const logger = createLogger(config, { write: (l: string) => lines.push(l) });
  return { logger, lines, config };
}

describe("logger", () => {
  test("scrubs the RPC API key and database password from every line, whatever field carries them", () => {
    const { logger, lines, config } = capture({
      SOLANA_RPC_URL: "https://mainnet.rpc-provider.example/?api-key=sk_live_0123456789",
      DATABASE_URL: "postgres://indexer:hunter2-secret@db.internal:5432/slotline",
    });
    logger.info({ url: config.SOLANA_RPC_URL }, "rpc configured");
    logger.error({ err: new Error(`connect failed: ${config.DATABASE_URL}`) }, "db down");
    const out = lines.join("");
    expect(out).not.toContain("sk_live_0123456789");
    expect(out).not.toContain("hunter2-secret");
    expect(out).toContain("[redacted]");
    expect(out).toContain("db.internal");
  });

  test("scrubs the API's metrics key too", () => {
    const { logger, lines } = capture({ API_METRICS_KEY: "metrics-key-0123456789abcdef" });
    logger.warn({ header: "Bearer metrics-key-0123456789abcdef" }, "metrics request");
    expect(lines.join("")).not.toContain("metrics-key-0123456789abcdef");
  });

  test("scrubs the gRPC x-token", () => {
    const { logger, lines } = capture({
      INGEST_MODE: "grpc",
      SOLANA_GRPC_URL: "https://grpc.example:443",
      SOLANA_GRPC_TOKEN: "grpc-token-0123456789",
    });
    logger.warn({ metadata: { "x-token": "grpc-token-0123456789" } }, "grpc stream ended");
    expect(lines.join("")).not.toContain("grpc-token-0123456789");
  });

  test("writes one JSON object per line with snake_case fields kept", () => {
    const { logger, lines } = capture({});
    logger.info({ slot: 5, duration_ms: 3 }, "stored slot");
    const rec = JSON.parse(lines[0]!);
    expect(rec).toMatchObject({ msg: "stored slot", slot: 5, duration_ms: 3, level: 30 });
  });

  test("redactUrl hides password, path and query but keeps the host", () => {
    expect(redactUrl("https://x.example/v2/KEY123?api-key=abc")).toBe("https://x.example/***?***");
    expect(redactUrl("postgres://u:pw@h:5432/db")).toBe("postgres://u:***@h:5432/db");
  });
});
