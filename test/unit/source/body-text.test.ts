/** RPC response bodies become text that parses to exactly what their UTF-8 decode parses to. */
import { isAscii } from "node:buffer";
import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { jsonText } from "../../../indexer/source/rpc.js";
import { fixturePath } from "../../setup/fixtures.js";

const same = (b: Buffer) => expect(JSON.parse(jsonText(b))).toEqual(JSON.parse(b.toString("utf8")));

describe("jsonText", () => {
  test("the recorded mainnet blocks, emoji in their logs sent as raw UTF-8 (as a validator sends them), parse as their UTF-8 decode does", () => {
    const dir = fixturePath("blocks/getBlock-json-mainnet-converted");
    // The fixtures escape non-ASCII as \u sequences; JSON.stringify writes the characters themselves.
    const files = readdirSync(dir)
      .filter((f) => f.endsWith(".json"))
      .map((f) => Buffer.from(JSON.stringify(JSON.parse(readFileSync(`${dir}/${f}`, "utf8"))), "utf8"));
    expect(files.length).toBeGreaterThan(0);
    expect(files.some((b) => !isAscii(b))).toBe(true);
    for (const b of files) {
      same(b);
      expect(isAscii(Buffer.from(jsonText(b), "latin1"))).toBe(true);
    }
  });

  test("ASCII is passed through; two-, three- and four-byte characters, runs across 64 KB chunk edges and invalid bytes parse alike", () => {
    expect(jsonText(Buffer.from('{"a":"plain"}'))).toBe('{"a":"plain"}');
    same(Buffer.from('{"log":"Program log: 🐠 é ✓ 🐠🐠"}', "utf8"));
    for (const at of [65_534, 65_535, 65_536]) {
      const pad = "x".repeat(at - 8);
      same(Buffer.from(`{"a":"${pad}🐠é","b":"✓"}`, "utf8"));
    }
    same(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xc3, 0x22, 0x7d]));
    same(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe2, 0x9c, 0x22, 0x7d]));
  });
});
