/** parseExact: JSON.parse, except that integers past 2^53 are read as their exact decimal text. */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { parseExact } from "../../../indexer/source/exact-json.js";
import { fixturePath } from "../../setup/fixtures.js";

describe("parseExact", () => {
  test("a recorded mainnet block (16-digit safe integers, digits inside strings) reads as JSON.parse reads it", () => {
    const text = readFileSync(
      fixturePath("blocks", "getBlock-json-mainnet-converted", "mainnet_block_332254908.converted.json"),
      "utf8",
    );
    expect(/\d{16}/.test(text)).toBe(true);
    expect(parseExact(text)).toEqual(JSON.parse(text));
  });

  test("integers past 2^53 become their decimal text; safe ones, floats and strings stay as they are", () => {
    expect(
      parseExact(
        '{"a":[9007199254740991,9007199254740993,18446744073709551615,-9007199254740993],"b":"12345678901234567890","c":1.8446744073709552e19,"d":12345678901234567.5,"e":"x\\"99999999999999999"}',
      ),
    ).toEqual({
      a: [9007199254740991, "9007199254740993", "18446744073709551615", "-9007199254740993"],
      b: "12345678901234567890",
      c: 1.8446744073709552e19,
      d: 12345678901234567.5,
      e: 'x"99999999999999999',
    });
  });

  test("a big literal is found past quoted digit runs, and digits in a log line stay text", () => {
    // the quoted run alone could be read by JSON.parse; the literal after it could not
    expect(parseExact('{"amount":"18446744073709551615","lamports":18446744073709551615}')).toEqual({
      amount: "18446744073709551615",
      lamports: "18446744073709551615",
    });
    // a run after a colon and a space inside a string looks like a literal until the string is scanned
    expect(parseExact('{"logs":["Program log: amount_in: 18446744073709551615"],"fee":5000}')).toEqual({
      logs: ["Program log: amount_in: 18446744073709551615"],
      fee: 5000,
    });
    expect(parseExact('{"ui":0.12345678901234567891,"f":12345678901234567890e2}')).toEqual(
      JSON.parse('{"ui":0.12345678901234567891,"f":12345678901234567890e2}'),
    );
  });

  test("malformed JSON still throws", () => {
    expect(() => parseExact("[12345678901234567890,")).toThrow(SyntaxError);
  });
});
