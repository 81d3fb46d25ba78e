/** getBlock answers with lazily parsed transactions read back exactly as JSON.parse reads the whole body. */
import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { LazyTransactions, parseBlockAnswers, ReleasedBodyError } from "../../../indexer/source/block-json.js";
import { fixturePath } from "../../setup/fixtures.js";

/** The parsed value with every LazyTransactions read out into an array, and whether each list was cut lazily. */
function materialize(v: unknown): unknown {
  if (v instanceof LazyTransactions) return Array.from({ length: v.length }, (_, i) => v.get(i));
  if (Array.isArray(v)) return v.map(materialize);
  if (typeof v === "object" && v !== null)
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, materialize(x)]));
  return v;
}

const lists = (v: unknown): LazyTransactions[] =>
  (Array.isArray(v) ? v : [v]).flatMap((a) => {
    const t = (a as { result?: { transactions?: unknown } } | null)?.result?.transactions;
    return t instanceof LazyTransactions ? [t] : [];
  });

/** Parses `text` both ways and compares; returns the lazy value. */
function same(text: string): unknown {
  const lazy = parseBlockAnswers(Buffer.from(text, "utf8"));
  expect(materialize(lazy)).toEqual(JSON.parse(text));
  return lazy;
}

const dir = fixturePath("blocks/getBlock-json-mainnet-converted");
const blocks = readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .map(
    (f) => JSON.parse(readFileSync(`${dir}/${f}`, "utf8")) as { jsonrpc: string; result: { transactions: unknown[] } },
  );

describe("parseBlockAnswers", () => {
  test("the recorded mainnet blocks, alone and as a batch with an error answer, with raw UTF-8 in their logs: the same values as JSON.parse", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    for (const b of blocks) {
      const lazy = same(JSON.stringify(b));
      expect(lists(lazy)).toHaveLength(1);
      expect(lists(lazy)[0]!.length).toBe(b.result.transactions.length);
      expect(lists(lazy)[0]!.cut).toBe(true);
    }
    const batch = [
      { ...blocks[0], id: 7 },
      { jsonrpc: "2.0", id: 8, error: { code: -32007, message: 'Slot 5 was skipped, "transactions": [1]' } },
      { ...blocks[1], id: 9 },
    ];
    const text = JSON.stringify(batch, null, 1); // whitespace everywhere a server may put it
    const lazy = same(text);
    expect(lists(lazy).map((l) => l.length)).toEqual([
      blocks[0]!.result.transactions.length,
      blocks[1]!.result.transactions.length,
    ]);
    expect(lists(lazy).every((l) => l.cut)).toBe(true);
  });

  test("strings holding brackets, quotes, escapes and the key itself do not move the cut", () => {
    const tx = (log: string) => ({
      meta: { logMessages: [log], fee: 5000 },
      transaction: { signatures: ["s"], message: { accountKeys: ["k"] } },
    });
    const logs = ['"transactions":[', "]}]", "\\", '\\"]', "{[", "🐠 é ✓", "a\u0000b"];
    // runs of backslashes before a quote, odd and even (an escaped quote, or an escaped backslash ending the string)
    logs.push("\\\\", '\\\\"}', "\\\\\\", 'x\\\\\\"]}');
    const body = {
      jsonrpc: "2.0",
      id: 1,
      result: { blockhash: "h", note: '"transactions":[{"x":1}]', transactions: logs.map(tx), parentSlot: 4 },
    };
    const lazy = same(JSON.stringify(body));
    expect(lists(lazy)[0]!.length).toBe(logs.length);
    // Read by the scan itself, not by the whole-body fallback.
    expect(lists(lazy)[0]!.cut).toBe(true);
  });

  test("an empty block and a result without transactions (getBlocks-style numbers) parse as JSON.parse does", () => {
    same(JSON.stringify({ jsonrpc: "2.0", id: 1, result: { blockhash: "h", transactions: [] } }));
    same(JSON.stringify({ jsonrpc: "2.0", id: 1, result: [1, 2, 3] }));
    same(
      JSON.stringify([
        { jsonrpc: "2.0", id: 1, result: null },
        { jsonrpc: "2.0", id: 2, result: { transactions: [] } },
      ]),
    );
  });

  test("shapes the cut does not expect fall back to a whole parse: never a dropped or invented transaction", () => {
    const shapes = [
      // an element that is not an object: the cut would not see it
      '{"id":1,"result":{"transactions":[{"a":1},2,{"b":3}]}}',
      '{"id":1,"result":{"transactions":[1]}}',
      // a duplicate key: JSON.parse keeps the last
      '{"id":1,"result":{"transactions":[{"a":1}],"transactions":[{"b":2},{"c":3}]}}',
      // transactions under another key than result
      '{"id":1,"other":{"transactions":[{"a":1}]},"result":{"transactions":[{"b":2}]}}',
      '{"id":1,"result":{"inner":{"transactions":[{"a":1}]}}}',
    ];
    // The first three cannot be cut (an element that is not an object, a duplicate key): whole-body parse.
    shapes.forEach((s, i) => i < 3 && expect(lists(same(s)).some((l) => l.cut)).toBe(false));
    for (const s of shapes.slice(3)) same(s);
  });

  test("malformed bodies throw SyntaxError (the RPC client retries them), and a malformed transaction throws when it is read", () => {
    for (const s of [
      '{"id":1,"result":{"transactions":[{"a":1},,{"b":2}]}}',
      '{"id":1,"result":{"transactions":[{"a":1}',
      '{"id":1,"result":{"transactions":[{"a":1}]}}}',
      "not json",
    ]) {
      expect(() => materialize(parseBlockAnswers(Buffer.from(s)))).toThrow(SyntaxError);
    }
    const lazy = parseBlockAnswers(Buffer.from('{"id":1,"result":{"transactions":[{"a":1},{"b":tru}]}}'));
    const l = lists(lazy)[0]!;
    expect(l.length).toBe(2);
    expect(l.get(0)).toEqual({ a: 1 });
    expect(() => l.get(1)).toThrow(SyntaxError);
  });

  test("the body is released once every cut list is released, at once when nothing was cut; a released list cannot be read", () => {
    let released = 0;
    const batch = Buffer.from(
      '[{"id":1,"result":{"transactions":[{"a":1}]}},{"id":2,"error":{"code":-32007}},{"id":3,"result":{"transactions":[{"b":2}]}}]',
    );
    const v = parseBlockAnswers(batch, () => released++);
    const [l1, l2] = lists(v);
    expect(l1!.cut && l2!.cut).toBe(true);
    l1!.release();
    l1!.release();
    expect(released).toBe(0);
    expect(l2!.get(0)).toEqual({ b: 2 });
    l2!.release();
    expect(released).toBe(1);
    expect(() => l1!.get(0)).toThrow(ReleasedBodyError);
    // Nothing cut (an error answer, or a shape parsed whole): nothing reads the body after the parse.
    parseBlockAnswers(Buffer.from('{"id":1,"error":{"code":-32004}}'), () => released++);
    expect(released).toBe(2);
    const whole = parseBlockAnswers(Buffer.from('{"id":1,"result":{"transactions":[1,2]}}'), () => released++);
    expect(released).toBe(3);
    expect(lists(whole)[0]!.get(1)).toBe(2);
  });
});
