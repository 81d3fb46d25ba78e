/**
 * Token-2022 mints that keep name, symbol and uri in their own TokenMetadata extension: a real mainnet Pump.fun
 * (createV2) mint account, read in place from the fixtures, parsed by the enricher's TLV reader; spl-token's own
 * extension reader is the oracle for where the extension lies.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { ExtensionType, TOKEN_2022_PROGRAM_ID, getExtensionData, unpackMint } from "@solana/spl-token";
import { PublicKey } from "@solana/web3.js";
import { describe, expect, test } from "vitest";
import { mintExtensions, parseMint, parseTokenMetadataExtension } from "../../../indexer/pipeline/index.js";
import { FIXTURES_DIR } from "../../setup/fixtures.js";

const DIR = path.join(FIXTURES_DIR, "pump-amm/litesvm-replay-snapshot-k13");
const PUMP_MINT = "6rR1V4h4BncYbyR7M1ZEtLYFQguCPwuS7L8j53bDpump";

/** The recorded getMultipleAccounts answer, by the keys its request named. */
function recordedAccounts(): Map<string, { owner: string; data: Buffer; lamports: number }> {
  const req = JSON.parse(readFileSync(path.join(DIR, "get_multiple_accounts_req.json"), "utf8"));
  const res = JSON.parse(readFileSync(path.join(DIR, "accounts.getMultipleAccounts.json"), "utf8"));
  const keys: string[] = req.params[0];
  const values: ({ owner: string; data: [string, string]; lamports: number } | null)[] = (res.result ?? res).value;
  const out = new Map<string, { owner: string; data: Buffer; lamports: number }>();
  keys.forEach((k, i) => {
    const v = values[i];
    if (v) out.set(k, { owner: v.owner, lamports: v.lamports, data: Buffer.from(v.data[0], "base64") });
  });
  return out;
}

describe("Token-2022 TokenMetadata extension", () => {
  const accounts = recordedAccounts();
  const pump = accounts.get(PUMP_MINT)!;

  test("the recorded Pump.fun mint's name, symbol and uri", () => {
    expect(pump.owner).toBe(TOKEN_2022_PROGRAM_ID.toBase58());
    expect(parseMint(pump.data)).toMatchObject({ decimals: 6 });
    expect(parseTokenMetadataExtension(pump.data)).toEqual({
      name: "The Olympic Stoat",
      symbol: "Tina",
      uri: "https://meta.uxento.io/data/20788851-d6c7-4353-bc7f-a5b1ce153d30",
    });
  });

  test("the TLV entries are where spl-token finds them", () => {
    const mint = unpackMint(
      new PublicKey(PUMP_MINT),
      { ...pump, executable: false, owner: TOKEN_2022_PROGRAM_ID },
      TOKEN_2022_PROGRAM_ID,
    );
    const ext = mintExtensions(pump.data);
    for (const type of [ExtensionType.MetadataPointer, ExtensionType.TokenMetadata]) {
      const theirs = getExtensionData(type, mint.tlvData);
      expect(theirs).not.toBeNull();
      expect(ext.get(type)?.equals(theirs!)).toBe(true);
    }
    // the pointer names the mint itself: its own metadata is the canonical one
    const pointer = ext.get(ExtensionType.MetadataPointer)!;
    expect(new PublicKey(pointer.subarray(32, 64)).toBase58()).toBe(PUMP_MINT);
  });

  test("a mint without extensions, and a cut-off one, give nothing", () => {
    const wsol = accounts.get("So11111111111111111111111111111111111111112")!;
    expect(wsol.data.length).toBe(82);
    expect(mintExtensions(wsol.data).size).toBe(0);
    expect(parseTokenMetadataExtension(wsol.data)).toBeNull();
    // the uri's bytes cut off: the string's length runs past the data
    expect(parseTokenMetadataExtension(pump.data.subarray(0, pump.data.length - 10))).toBeNull();
  });
});
