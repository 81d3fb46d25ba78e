/** getProgramAccounts filters as Agave parses and applies them, and the SPL token account layout the chain serves. */
import bs58 from "bs58";
import { AccountLayout } from "@solana/spl-token";
import { describe, expect, test } from "vitest";
import { parseFilters, passes, tokenAccountData } from "../../../devchain/token-index.js";

const MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
const OWNER = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM";

describe("getProgramAccounts filters", () => {
  const data = tokenAccountData({ mint: MINT, owner: OWNER, program: "", amount: 123_456_789n });

  test("the SPL layout: mint, owner, amount, initialized, as spl-token decodes it", () => {
    const a = AccountLayout.decode(data);
    expect(data.length).toBe(165);
    expect(a.mint.toBase58()).toBe(MINT);
    expect(a.owner.toBase58()).toBe(OWNER);
    expect(a.amount).toBe(123_456_789n);
    expect(a.state).toBe(1);
    expect(a.isNativeOption).toBe(0);
    const wsol = AccountLayout.decode(
      tokenAccountData({ mint: "So11111111111111111111111111111111111111112", owner: OWNER, program: "", amount: 5n }),
    );
    expect(wsol.isNativeOption).toBe(1);
    expect(wsol.isNative).toBe(2_039_280n);
  });

  test("memcmp in base58 (default) and base64, raw byte arrays, dataSize; all must match", () => {
    const f = (filters: unknown) => {
      const parsed = parseFilters(filters);
      if (typeof parsed === "string") throw new Error(parsed);
      return passes(data, parsed);
    };
    expect(f([{ memcmp: { offset: 0, bytes: MINT } }])).toBe(true);
    expect(
      f([{ memcmp: { offset: 32, bytes: Buffer.from(bs58.decode(OWNER)).toString("base64"), encoding: "base64" } }]),
    ).toBe(true);
    expect(f([{ memcmp: { offset: 0, bytes: [...bs58.decode(MINT)] } }])).toBe(true);
    expect(f([{ memcmp: { offset: 0, bytes: OWNER } }])).toBe(false);
    expect(f([{ dataSize: 165 }, { memcmp: { offset: 0, bytes: MINT } }])).toBe(true);
    expect(f([{ dataSize: 82 }, { memcmp: { offset: 0, bytes: MINT } }])).toBe(false);
    // bytes that would run past the data's end never match
    expect(f([{ memcmp: { offset: 160, bytes: bs58.encode(Buffer.alloc(8)) } }])).toBe(false);
    expect(f([])).toBe(true);
  });

  test("refusals: more than 4 filters, bytes over 128, an unknown encoding or filter", () => {
    expect(parseFilters(Array.from({ length: 5 }, () => ({ dataSize: 1 })))).toBe("Too many filters provided; max 4");
    expect(
      parseFilters([{ memcmp: { offset: 0, bytes: Buffer.alloc(129).toString("base64"), encoding: "base64" } }]),
    ).toBe("Invalid param: DataTooLarge");
    expect(parseFilters([{ memcmp: { offset: 0, bytes: "x", encoding: "hex" } }])).toMatch(/unknown variant `hex`/);
    expect(parseFilters([{ tokenAccountStatus: 1 }])).toMatch(/unknown filter/);
    expect(parseFilters([{ memcmp: { offset: 0, bytes: "0OIl" } }])).toBe("Invalid param: Invalid");
  });
});
