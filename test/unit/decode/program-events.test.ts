import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { type AnyIdl, type DecodedTransaction, createDecoder } from "../../../indexer/decode/index.js";
import { PRESET_NAMES } from "../../../core/presets.js";
import { fixturePath } from "../../setup/fixtures.js";
import { tokenDeltas } from "./chain-accounting.js";
import { allFixtureTxs } from "./fixture-txs.js";
import { shared } from "./shared.js";

const idl = (p: string) => JSON.parse(readFileSync(fixturePath(p), "utf8")) as AnyIdl;
const IDLS = [
  idl("pump-amm/idl/pump_amm_idl_official.json"),
  idl("raydium-clmm/idl/amm_v3_idl_official.json"),
  idl("meteora-dlmm/idl/dlmm_idl_official_v0.12.0.json"),
  // a legacy-format IDL: converted, then decoded by the same coders
  idl("orca-whirlpool/idl/whirlpool_idl_yugure_legacy_0.5.0.json"),
];
const decoder = shared(() => createDecoder({ programs: [...PRESET_NAMES], idls: IDLS }));
// the same transaction can sit in a whole block and in a per-program folder: keep one copy
const unique = [...new Map(allFixtureTxs().map((f) => [f.tx.transaction.signatures[0], f])).values()];
const decoded = shared(() =>
  unique
    .map((f) => ({ f, d: decoder().decodeTransaction(f.tx, f) }))
    .filter((x): x is { f: (typeof x)["f"]; d: DecodedTransaction } => x.d !== undefined),
);
const events = shared(() => decoded().flatMap(({ d }) => d.programEvents));

describe("program_events from IDLs", () => {
  test("instructions of IDL programs decode with named accounts and JSON-safe args", () => {
    const ixs = events().filter((e) => e.kind === "instruction");
    expect(new Set(ixs.map((e) => e.programId)).size).toBe(4);
    for (const e of ixs) {
      const data = e.data as { accounts: Record<string, string>; args: Record<string, unknown> };
      expect(Object.keys(data.accounts).length).toBeGreaterThan(0);
      expect(JSON.parse(JSON.stringify(e.data))).toEqual(e.data);
    }
  });

  test("emit_cpi! events (Pump AMM BuyEvent/SellEvent) sit on the swap's instruction and agree with the vault deltas", () => {
    let checked = 0;
    for (const { f, d } of decoded()) {
      for (const s of d.swaps.filter((x) => x.dex === "pump-amm")) {
        const ev = d.programEvents.find(
          (e) => e.kind === "cpi_event" && e.instructionPath === s.instructionPath && /^(Buy|Sell)Event$/.test(e.name),
        );
        expect(ev, `${f.file} ${s.instructionPath}`).toBeDefined();
        const pool = d.pools.find((p) => p.address === s.pool)!;
        const onlySwap = d.swaps.filter((x) => x.pool === s.pool).length === 1;
        if (!onlySwap) continue;
        const data = ev!.data as Record<string, string>;
        // the pool's base vault pays base_amount_out on a buy and receives base_amount_in on a sell
        const baseDelta = tokenDeltas(f.tx).get(pool.vaultA)!.delta;
        expect(BigInt(ev!.name === "BuyEvent" ? data.baseAmountOut! : data.baseAmountIn!), f.file).toBe(
          baseDelta < 0n ? -baseDelta : baseDelta,
        );
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  test("'Program data:' events are attributed to the instruction that logged them (Raydium CLMM SwapEvent)", () => {
    let checked = 0;
    for (const { d } of decoded()) {
      for (const s of d.swaps.filter((x) => x.dex === "raydium-clmm")) {
        const ev = d.programEvents.find(
          (e) => e.kind === "event" && e.name === "SwapEvent" && e.instructionPath === s.instructionPath,
        );
        if (d.transaction.logTruncated) continue;
        expect(ev, `${d.transaction.signature} ${s.instructionPath}`).toBeDefined();
        expect((ev!.data as Record<string, string>).poolState).toBe(s.pool);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  test("repeated events under one instruction get distinct ordinals", () => {
    const keys = events().map((e) => `${e.signature}|${e.instructionPath}|${e.kind}|${e.name}|${e.ordinal}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  test("an IDL alone adds program_events, never swaps: DEX rows need the preset", () => {
    const idlOnly = createDecoder({ programs: ["spl-token"], idls: IDLS });
    let count = 0;
    for (const { f } of decoded().slice(0, 400)) {
      const d = idlOnly.decodeTransaction(f.tx, f);
      expect(d?.swaps ?? []).toEqual([]);
      count += d?.programEvents.length ?? 0;
    }
    expect(count).toBeGreaterThan(0);
  });

  test("failed transactions produce no program events", () => {
    for (const { d } of decoded()) if (!d.transaction.success) expect(d.programEvents).toEqual([]);
  });
});
