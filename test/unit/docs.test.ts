import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { configKeys, parseConfig } from "../../core/config.js";
import { REPO_ROOT } from "../setup/fixtures.js";

function envExample(): { keys: string[]; env: Record<string, string>; comments: Record<string, string> } {
  const lines = readFileSync(path.join(REPO_ROOT, ".env.example"), "utf8").split("\n");
  const keys: string[] = [];
  const env: Record<string, string> = {};
  const comments: Record<string, string> = {};
  lines.forEach((line, i) => {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) return;
    keys.push(m[1]!);
    env[m[1]!] = m[2]!;
    comments[m[1]!] = lines[i - 1]?.startsWith("#") ? lines[i - 1]! : "";
  });
  return { keys, env, comments };
}

/** The key -> default rows of the table in docs/configuration.md (its first section, before any `## ` heading). */
function docsConfigTable(): Map<string, string> {
  const doc = readFileSync(path.join(REPO_ROOT, "docs/configuration.md"), "utf8");
  const section = doc.split("\n## ")[0] ?? "";
  const rows = new Map<string, string>();
  for (const m of section.matchAll(/^\| `([A-Z0-9_]+)` \| ([^|]*) \|/gm))
    rows.set(m[1]!, m[2]!.trim().replace(/^`|`$/g, ""));
  return rows;
}

describe(".env.example", () => {
  test("lists every config key, in schema order, each with a comment", () => {
    const { keys, comments } = envExample();
    expect(keys).toEqual(configKeys());
    for (const k of keys) expect(comments[k], `${k} has no comment line`).toMatch(/^# \S/);
  });

  test("its values are the schema's defaults", () => {
    expect(parseConfig(envExample().env)).toEqual(parseConfig({}));
  });
});

describe("docs/configuration.md table", () => {
  test("has a row for every key, in schema order, with the same default as .env.example", () => {
    const rows = docsConfigTable();
    const { env } = envExample();
    expect([...rows.keys()]).toEqual(configKeys());
    for (const [key, def] of rows) expect(def === "(empty)" ? "" : def, key).toBe(env[key]);
  });
});
