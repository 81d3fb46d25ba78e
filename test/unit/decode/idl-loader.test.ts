import { describe, expect, test } from "vitest";
import { createDecoder, idlAddress, isNewFormat } from "../../../indexer/decode/index.js";
import { type SkippedIdl, loadIdlDir } from "../../../indexer/decode/idl-loader.js";
import { fixturePath } from "../../setup/fixtures.js";

describe("loadIdlDir", () => {
  test("loads 0.30+ and legacy Anchor IDLs, skips what it cannot attribute or parse, and the decoder accepts them", async () => {
    const skipped: SkippedIdl[] = [];
    const idls = await loadIdlDir(fixturePath("orca-whirlpool", "idl"), (s) => skipped.push(s));
    // official 0.6.1 (0.30+ format) and yugure 0.5.0 (legacy, metadata.address) load
    expect(idls.map((i) => [isNewFormat(i), idlAddress(i)]).sort()).toEqual([
      [false, "whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc"],
      [true, "whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc"],
    ]);
    // carbon's legacy IDL has no address; the Codama file is not an Anchor IDL
    expect(skipped.map((s) => s.file.split("/").pop()).sort()).toEqual([
      "whirlpool_codama_explorer.json",
      "whirlpool_idl_carbon_legacy.json",
    ]);
    expect(
      createDecoder({ programs: ["spl-token"], idls }).trackedProgramIds.has(
        "whirLbMiicVdio4qvUfM5KAg6Ct8VwpYzGff3uctyCc",
      ),
    ).toBe(true);
  });
});
