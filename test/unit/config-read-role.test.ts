import { describe, expect, test } from "vitest";
import { ConfigError, parseConfig } from "../../core/config.js";
import { readRoleOf } from "../../core/read-role.js";

describe("DATABASE_READ_ROLE", () => {
  test("is off by default", () => {
    expect(readRoleOf(parseConfig({}))).toBeNull();
  });

  test("needs DATABASE_READ_PASSWORD, and a plain role name; every bad key is named at once", () => {
    const issues = (env: Record<string, string>) => {
      try {
        parseConfig(env);
        return [];
      } catch (err) {
        return (err as ConfigError).issues.map((i) => i.key);
      }
    };
    expect(issues({ DATABASE_READ_ROLE: "slotline_api" })).toEqual(["DATABASE_READ_PASSWORD"]);
    expect(issues({ DATABASE_READ_ROLE: 'api"; drop', DATABASE_READ_PASSWORD: "pw", API_PORT: "0" })).toEqual([
      "DATABASE_READ_ROLE",
      "API_PORT",
    ]);
    expect(readRoleOf(parseConfig({ DATABASE_READ_ROLE: "slotline_api", DATABASE_READ_PASSWORD: "pw" }))).toEqual({
      name: "slotline_api",
      password: "pw",
    });
  });
});
