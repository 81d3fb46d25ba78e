import { describe, expect, test } from "vitest";
import { ConfigError, parseConfig } from "../../core/config.js";
import { sentinelAddresses } from "../../core/redis.js";
import { parseLsn } from "../../core/events.js";

const issuesOf = (env: Record<string, string>) => {
  try {
    parseConfig(env);
    return [];
  } catch (err) {
    return (err as ConfigError).issues;
  }
};

describe("scaling keys", () => {
  test("DATABASE_READ_URLS: a comma list of postgres URLs; a bad entry is named", () => {
    expect(parseConfig({}).DATABASE_READ_URLS).toBeUndefined();
    expect(parseConfig({ DATABASE_READ_URLS: "postgres://a:5433/x, postgresql://b/x" }).DATABASE_READ_URLS).toEqual([
      "postgres://a:5433/x",
      "postgresql://b/x",
    ]);
    expect(issuesOf({ DATABASE_READ_URLS: "postgres://a/x,http://b/x" })).toEqual([
      { key: "DATABASE_READ_URLS", message: "entry 2: expected a URL (postgres: or postgresql:)" },
    ]);
  });

  test("REDIS_SENTINELS: host:port entries (26379 by default); anything else is refused", () => {
    const c = parseConfig({ REDIS_SENTINELS: "10.0.0.1:26380,sentinel-b", REDIS_SENTINEL_NAME: "queue" });
    expect(sentinelAddresses(c.REDIS_SENTINELS!)).toEqual([
      { host: "10.0.0.1", port: 26380 },
      { host: "sentinel-b", port: 26379 },
    ]);
    expect(c.REDIS_SENTINEL_NAME).toBe("queue");
    expect(issuesOf({ REDIS_SENTINELS: "redis://x:1" }).map((i) => i.key)).toEqual(["REDIS_SENTINELS"]);
  });

  test("an LSN orders as Postgres orders it (the high word first)", () => {
    expect(parseLsn("1/0")! > parseLsn("0/FFFFFFFF")!).toBe(true);
    expect(parseLsn("16/B374D848")).toBe((0x16n << 32n) + 0xb374d848n);
    expect(parseLsn("16/B374D848/1")).toBe(null);
  });
});
