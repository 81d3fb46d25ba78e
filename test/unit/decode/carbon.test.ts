import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { type AnyIdl, createAnchorProgram } from "../../../indexer/decode/index.js";
import { camelCase } from "../../../indexer/decode/anchor/idl-normalize.js";
import { fixturePath } from "../../setup/fixtures.js";

// carbon generated its decoders from its own (legacy-format) IDLs; the official 0.30+ IDLs must agree
const IDLS: Record<string, string[]> = {
  "meteora-dlmm": ["meteora_dlmm_idl_carbon_head.json", "dlmm_idl_official_v0.12.0.json"],
  "orca-whirlpool": ["whirlpool_idl_carbon_legacy.json", "whirlpool_idl_official_v0.6.1.json"],
  pumpfun: ["pumpfun_idl_carbon_legacy.json", "pump_idl_official.json"],
  "raydium-clmm": ["raydium_clmm_idl_carbon.json", "amm_v3_idl_official.json"],
  "pump-amm": ["pump_amm_idl_official.json"],
};
// jupiter/carbon-instructions are Jupiter DCA instructions, whose IDL is not among the fixtures

type CarbonIx = {
  program_id: string;
  data: string;
  accounts: { pubkey: string; label?: string }[];
  data_decoded?: Record<string, unknown>;
};

const rawIdl = (program: string, file: string) =>
  JSON.parse(readFileSync(fixturePath(program, "idl", file), "utf8")) as AnyIdl;
const names = (idl: AnyIdl) => ((idl.instructions as { name: string }[]) ?? []).map((i) => camelCase(i.name));

// each fixture is decoded with the first IDL (carbon's own first) that defines its instruction
const cases = Object.entries(IDLS).flatMap(([program, idls]) =>
  readdirSync(fixturePath(program, "carbon-instructions"))
    .filter((n) => n.endsWith(".json"))
    .map((file) => ({
      program,
      file,
      idl: idls.find((i) => names(rawIdl(program, i)).includes(expectedName(file))) ?? idls[0]!,
    })),
);

const programs = new Map<string, ReturnType<typeof createAnchorProgram>>();
function programFor(program: string, idlFile: string, programId: string) {
  const key = `${program}/${idlFile}`;
  let p = programs.get(key);
  if (!p) {
    const raw = JSON.parse(readFileSync(fixturePath(program, "idl", idlFile), "utf8")) as AnyIdl;
    programs.set(key, (p = createAnchorProgram(raw, programId)));
  }
  return p;
}

/** carbon's `{type, data}` wrappers removed and every scalar as a string, so both sides compare as JSON. */
function plain(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    if ("type" in o && "data" in o && Object.keys(o).length === 2) return plain(o.data);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, plain(x)]));
  }
  return String(v);
}

function expectedName(file: string): string {
  const stem = path.basename(file, ".json").replace(/_ix$/, "");
  return camelCase(stem.startsWith("buy_with_track_volume") ? "buy" : stem);
}

describe("carbon's single-instruction fixtures decode with the IDL machinery", () => {
  test.each(cases)("$program $file with $idl", ({ program, file, idl }) => {
    const fx = JSON.parse(readFileSync(fixturePath(program, "carbon-instructions", file), "utf8")) as CarbonIx;
    const p = programFor(program, idl, fx.program_id);
    const m = p.decodeInstruction(
      Buffer.from(fx.data, "hex"),
      fx.accounts.map((a) => a.pubkey),
    );
    expect(m.ok ? m.name : m, "decodes").toBe(expectedName(file));
    if (!m.ok) return;
    fx.accounts.forEach((a, i) => {
      if (a.label) expect(m.accountNames[i], `account ${i}`).toBe(camelCase(a.label));
    });
    for (const [name, value] of Object.entries(fx.data_decoded ?? {})) {
      expect(plain(m.decoded.args[name]), name).toEqual(plain(value));
    }
  });

  test.each(Object.entries(IDLS).filter(([, idls]) => idls.length > 1))(
    "%s: the legacy IDL, converted, has the discriminators of the official 0.30+ IDL",
    (program, idls) => {
      const [legacy, official] = idls.map((f) =>
        createAnchorProgram(rawIdl(program, f), "11111111111111111111111111111111"),
      );
      const offDisc = new Map(
        official!.idl.instructions.map((i) => [i.name, Buffer.from(i.discriminator).toString("hex")]),
      );
      let shared = 0;
      for (const ix of legacy!.idl.instructions) {
        const d = offDisc.get(ix.name);
        if (d === undefined) continue;
        shared++;
        expect(Buffer.from(ix.discriminator).toString("hex"), ix.name).toBe(d);
      }
      expect(shared).toBeGreaterThan(3);
      const offEvents = new Map(
        (official!.idl.events ?? []).map((e) => [e.name, Buffer.from(e.discriminator).toString("hex")]),
      );
      for (const ev of legacy!.idl.events ?? [])
        if (offEvents.has(ev.name))
          expect(Buffer.from(ev.discriminator).toString("hex"), ev.name).toBe(offEvents.get(ev.name));
    },
  );

  test("an older client's data without the IDL's newest trailing arg still decodes; the arg is reported missing", () => {
    const fx = JSON.parse(
      readFileSync(fixturePath("pump-amm", "carbon-instructions", "buy_with_track_volume_false.json"), "utf8"),
    ) as CarbonIx;
    const m = programFor("pump-amm", "pump_amm_idl_official.json", fx.program_id).decodeInstruction(
      Buffer.from(fx.data, "hex"),
      [],
    );
    expect(m.ok && m.decoded).toMatchObject({ name: "buy", missingArgs: ["trackVolume"], args: { trackVolume: null } });
  });

  test("u128 and u64::MAX args survive as exact decimal strings", () => {
    const fx = JSON.parse(
      readFileSync(fixturePath("orca-whirlpool", "carbon-instructions", "increase_liquidity_v2_ix.json"), "utf8"),
    ) as CarbonIx;
    const p = programFor("orca-whirlpool", "whirlpool_idl_official_v0.6.1.json", fx.program_id);
    const m = p.decodeInstruction(Buffer.from(fx.data, "hex"), []);
    expect(m.ok && m.decoded.args).toMatchObject({
      liquidityAmount: "119303511311",
      tokenMaxA: "18446744073709551615",
      tokenMaxB: "18446744073709551615",
    });
  });
});
