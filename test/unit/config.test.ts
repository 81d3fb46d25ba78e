import { describe, expect, test } from "vitest";
import { ConfigError, deriveWsUrl, parseConfig } from "../../core/config.js";

function issuesOf(env: Record<string, string>): Record<string, string> {
  try {
    parseConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return Object.fromEntries((err as ConfigError).issues.map((i) => [i.key, i.message]));
  }
  throw new Error("expected a ConfigError");
}

describe("parseConfig", () => {
  test("defaults describe a local deployment against mainnet-beta", () => {
    const c = parseConfig({});
    expect(c.DATABASE_URL).toBe("postgres://postgres:postgres@127.0.0.1:5432/slotline");
    expect(c.REDIS_URL).toBe("redis://127.0.0.1:6379");
    expect(c.SOLANA_RPC_URL).toBe("https://api.mainnet-beta.solana.com");
    expect(c.SOLANA_WS_URL).toBe("wss://api.mainnet-beta.solana.com");
    expect(c.COMMITMENT).toBe("confirmed");
    expect(c.API_PORT).toBe(4000);
    expect(c.PROGRAMS).toContain("raydium-amm-v4");
    expect(c.DATABASE_READ_URL).toBeUndefined();
  });

  test("names every bad key in one error, with what it expected", () => {
    const issues = issuesOf({
      DATABASE_URL: "nonsense",
      REDIS_URL: "",
      COMMITMENT: "processed",
      API_PORT: "80000",
      RPC_MAX_RPS: "fast",
      PROGRAMS: "raydium-amm-v4,not-a-dex",
      LOG_FORMAT: "xml",
    });
    expect(Object.keys(issues).sort()).toEqual([
      "API_PORT",
      "COMMITMENT",
      "DATABASE_URL",
      "LOG_FORMAT",
      "PROGRAMS",
      "REDIS_URL",
      "RPC_MAX_RPS",
    ]);
    expect(issues.DATABASE_URL).toMatch(/postgres/);
    expect(issues.COMMITMENT).toMatch(/confirmed or finalized/);
    expect(issues.API_PORT).toMatch(/1 to 65535/);
    expect(issues.PROGRAMS).toMatch(/not-a-dex/);
  });

  test("gRPC mode: the stream's URL is required, checked with the other keys; the token is optional", () => {
    const issues = issuesOf({ INGEST_MODE: "grpc", GRPC_STALL_MS: "10", SOLANA_GRPC_TOKEN: "secret" });
    expect(Object.keys(issues).sort()).toEqual(["GRPC_STALL_MS", "SOLANA_GRPC_URL"]);
    expect(issues.SOLANA_GRPC_URL).toMatch(/required when INGEST_MODE is grpc/);
    expect(issuesOf({ INGEST_MODE: "grpc", SOLANA_GRPC_URL: "ws://x:1" }).SOLANA_GRPC_URL).toMatch(/http: or https:/);
    const c = parseConfig({ INGEST_MODE: "grpc", SOLANA_GRPC_URL: "https://grpc.example:443" });
    expect([c.INGEST_MODE, c.SOLANA_GRPC_URL, c.SOLANA_GRPC_TOKEN, c.GRPC_STALL_MS]).toEqual([
      "grpc",
      "https://grpc.example:443",
      undefined,
      15_000,
    ]);
    expect(issuesOf({ INGEST_MODE: "stream" }).INGEST_MODE).toMatch(/block, logs or grpc/);
  });

  test("the error message lists each key on its own line", () => {
    expect(() => parseConfig({ DATABASE_URL: "x", REDIS_URL: "" })).toThrow(/DATABASE_URL: .*\n\s+REDIS_URL: /);
  });

  test("PROGRAMS accepts preset names and raw program ids", () => {
    const c = parseConfig({ PROGRAMS: "pumpfun, whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc" });
    expect(c.PROGRAMS).toEqual(["pumpfun", "whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc"]);
  });

  test("numbers are coerced and booleans parsed", () => {
    const c = parseConfig({ RPC_MAX_RPS: "250", API_INTROSPECTION: "false", START_SLOT: "332254855" });
    expect(c.RPC_MAX_RPS).toBe(250);
    expect(c.API_INTROSPECTION).toBe(false);
    expect(c.START_SLOT).toBe(332254855);
    expect(parseConfig({ START_SLOT: "" }).START_SLOT).toBeUndefined();
  });

  test("RANKINGS_MIN_INTERVAL_S: seconds of chain time from 0 (every catch-up) to a day, 60 by default", () => {
    expect(parseConfig({}).RANKINGS_MIN_INTERVAL_S).toBe(60);
    expect(parseConfig({ RANKINGS_MIN_INTERVAL_S: "0" }).RANKINGS_MIN_INTERVAL_S).toBe(0);
    const issues = issuesOf({ RANKINGS_MIN_INTERVAL_S: "86401", PRICE_MIN_LIQUIDITY_USD: "-1" });
    expect(Object.keys(issues).sort()).toEqual(["PRICE_MIN_LIQUIDITY_USD", "RANKINGS_MIN_INTERVAL_S"]);
    expect(Object.keys(issuesOf({ RANKINGS_MIN_INTERVAL_S: "soon" }))).toEqual(["RANKINGS_MIN_INTERVAL_S"]);
  });

  test("an explicit SOLANA_WS_URL wins over the derived one", () => {
    expect(
      parseConfig({ SOLANA_RPC_URL: "http://127.0.0.1:8899", SOLANA_WS_URL: "ws://10.0.0.1:9000" }).SOLANA_WS_URL,
    ).toBe("ws://10.0.0.1:9000");
  });
});

describe("deriveWsUrl", () => {
  test("follows web3.js: ws scheme and explicit port + 1", () => {
    expect(deriveWsUrl("http://127.0.0.1:8899")).toBe("ws://127.0.0.1:8900");
    expect(deriveWsUrl("https://rpc.example.com/abc?api-key=k")).toBe("wss://rpc.example.com/abc?api-key=k");
  });
});

describe("SOLANA_RPC_URL endpoint pool", () => {
  test("one URL stays exactly as given, with no budget of its own", () => {
    const c = parseConfig({ SOLANA_RPC_URL: "https://rpc.example/?api-key=abc123" });
    expect(c.SOLANA_RPC_URL).toBe("https://rpc.example/?api-key=abc123");
    expect(c.SOLANA_RPC_ENDPOINTS).toEqual([{ url: "https://rpc.example/?api-key=abc123" }]);
    expect(c.SOLANA_ARCHIVE_RPC).toBeUndefined();
  });

  test("a comma list with per-endpoint rps and concurrency, removed from the URL sent", () => {
    const c = parseConfig({
      SOLANA_RPC_URL: "http://127.0.0.1:8899?rps=50&concurrency=8, https://b.example/key?api-key=x&rps=7",
      SOLANA_ARCHIVE_RPC_URL: "https://archive.example?concurrency=2",
    });
    expect(c.SOLANA_RPC_ENDPOINTS).toEqual([
      { url: "http://127.0.0.1:8899", maxRps: 50, concurrency: 8 },
      { url: "https://b.example/key?api-key=x", maxRps: 7 },
    ]);
    expect(c.SOLANA_RPC_URL).toBe("http://127.0.0.1:8899");
    expect(c.SOLANA_WS_URL).toBe("ws://127.0.0.1:8900");
    expect(c.SOLANA_ARCHIVE_RPC).toEqual({ url: "https://archive.example", concurrency: 2 });
    expect(c.SOLANA_ARCHIVE_RPC_URL).toBe("https://archive.example");
  });

  test("every bad entry is named, with the other bad keys", () => {
    const issues = issuesOf({
      SOLANA_RPC_URL: "http://a.example?rps=0,ftp://b.example,not a url,http://c.example?concurrency=x",
      SOLANA_ARCHIVE_RPC_URL: "http://d.example,http://e.example",
      API_PORT: "0",
    });
    expect(Object.keys(issues).sort()).toEqual(["API_PORT", "SOLANA_ARCHIVE_RPC_URL", "SOLANA_RPC_URL"]);
    expect(issues.SOLANA_ARCHIVE_RPC_URL).toMatch(/one URL/);
    expect(() =>
      parseConfig({
        SOLANA_RPC_URL: "http://a.example?rps=0,ftp://b.example,not a url,http://c.example?concurrency=x",
      }),
    ).toThrow(
      /entry 1 \(a\.example\): rps=0[\s\S]*entry 2 \(b\.example\)[\s\S]*entry 3 is not a URL[\s\S]*entry 4 \(c\.example\): concurrency=x/,
    );
    expect(issuesOf({ SOLANA_RPC_URL: "" }).SOLANA_RPC_URL).toMatch(/at least one/);
  });
});
