/**
 * Dev tool, not part of the decoder: regenerates the minimal embedded IDLs of the DEX decoders
 * (indexer/decode/programs/<preset>/idl.json) from the full IDLs in ../shared/fixtures beside the checkout (see
 * indexer/decode/programs/SOURCES.md). Run: `tsx scripts/extract-idl.ts`.
 * Kept: the instructions the presets decode (accounts, args and the types they need), the events they read,
 * and every other instruction by name and discriminator only, so it is recognised and not reported unknown.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { convertLegacyIdl, isNewFormat, snakeCase } from "../indexer/decode/anchor/idl-normalize.js";

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const shared = path.resolve(root, "../shared/fixtures");
/** Where a preset's IDL goes: its decoder's folder. */
const idlPath = (out: string) => path.join(root, "indexer/decode/programs", out.replace(/\.json$/, ""), "idl.json");

type Spec = { out: string; src: string; extra?: string; used: string[]; events?: Record<string, string[]> };

const SPECS: Spec[] = [
  {
    out: "raydium-cpmm.json",
    src: "raydium-cpmm/idl/raydium_cp_swap_idl_official.json",
    used: [
      "initialize",
      "deposit",
      "withdraw",
      "swap_base_input",
      "swap_base_output",
      "collect_fund_fee",
      "collect_protocol_fee",
    ],
  },
  {
    out: "raydium-clmm.json",
    src: "raydium-clmm/idl/amm_v3_idl_official.json",
    used: [
      "create_pool",
      "swap",
      "swap_v2",
      "increase_liquidity",
      "increase_liquidity_v2",
      "decrease_liquidity",
      "decrease_liquidity_v2",
      "open_position",
      "open_position_v2",
      "open_position_with_token22_nft",
      "collect_fund_fee",
      "collect_protocol_fee",
    ],
  },
  {
    out: "orca-whirlpool.json",
    src: "orca-whirlpool/idl/whirlpool_idl_official_v0.6.1.json",
    extra: "orca-whirlpool/idl/whirlpool_idl_yugure_legacy_0.5.0.json",
    used: [
      "initialize_pool",
      "initialize_pool_v2",
      "initialize_pool_with_adaptive_fee",
      "swap",
      "swap_v2",
      "two_hop_swap",
      "two_hop_swap_v2",
      "increase_liquidity",
      "increase_liquidity_v2",
      "decrease_liquidity",
      "decrease_liquidity_v2",
      "collect_fees",
      "collect_fees_v2",
      "collect_protocol_fees",
      "collect_protocol_fees_v2",
      "increase_liquidity_by_token_amounts_v2",
      "reposition_liquidity_v2",
    ],
  },
  {
    out: "meteora-dlmm.json",
    src: "meteora-dlmm/idl/dlmm_idl_official_v0.12.0.json",
    used: [
      "initialize_lb_pair",
      "initialize_lb_pair2",
      "initialize_customizable_permissionless_lb_pair",
      "initialize_customizable_permissionless_lb_pair2",
      "initialize_permission_lb_pair",
      "swap",
      "swap2",
      "swap_exact_out",
      "swap_exact_out2",
      "swap_with_price_impact",
      "swap_with_price_impact2",
      "add_liquidity",
      "add_liquidity2",
      "add_liquidity_by_strategy",
      "add_liquidity_by_strategy2",
      "add_liquidity_by_weight",
      "add_liquidity_by_weight2",
      "add_liquidity_one_side",
      "add_liquidity_one_side_precise",
      "add_liquidity_one_side_precise2",
      "add_liquidity_by_strategy_one_side",
      "remove_liquidity",
      "remove_liquidity2",
      "remove_liquidity_by_range",
      "remove_liquidity_by_range2",
      "remove_all_liquidity",
      "claim_fee",
      "claim_fee2",
      "rebalance_liquidity",
    ],
  },
  {
    out: "meteora-damm-v2.json",
    src: "meteora-damm/idl/cp_amm_damm_v2_idl_official.json",
    used: [
      "initialize_pool",
      "initialize_customizable_pool",
      "initialize_pool_with_dynamic_config",
      "swap",
      "swap2",
      "add_liquidity",
      "remove_liquidity",
      "remove_all_liquidity",
      "claim_position_fee",
      "claim_protocol_fee",
    ],
  },
  {
    out: "pumpfun.json",
    src: "pumpfun/idl/pump_idl_official.json",
    used: ["create", "create_v2", "buy", "buy_exact_sol_in", "sell", "migrate"],
    // TradeEvent grew fields over time; the stable prefix decodes old and new events alike
    events: {
      TradeEvent: [
        "mint",
        "sol_amount",
        "token_amount",
        "is_buy",
        "user",
        "timestamp",
        "virtual_sol_reserves",
        "virtual_token_reserves",
      ],
    },
  },
  {
    out: "pump-amm.json",
    src: "pump-amm/idl/pump_amm_idl_official.json",
    used: ["create_pool", "buy", "buy_exact_quote_in", "sell", "deposit", "withdraw"],
  },
];

function typeRefs(t: Json, acc: Set<string>): void {
  if (!t || typeof t !== "object") return;
  if (t.defined) acc.add(typeof t.defined === "string" ? t.defined : t.defined.name);
  for (const v of Object.values(t)) typeRefs(v, acc);
}

for (const spec of SPECS) {
  const raw: Json = JSON.parse(readFileSync(path.join(shared, spec.src), "utf8"));
  if (!isNewFormat(raw)) throw new Error(`${spec.src}: expected the 0.30+ format`);
  const instructions: Json[] = [...raw.instructions];
  const types: Json[] = [...(raw.types ?? [])];
  if (spec.extra) {
    const legacy = convertLegacyIdl(
      JSON.parse(readFileSync(path.join(shared, spec.extra), "utf8")),
      raw.address,
    ) as Json;
    const have = new Set(instructions.map((i) => i.name));
    const snakeAccounts = (accs: Json[]): Json[] =>
      accs.map((a) =>
        a.accounts
          ? { ...a, name: snakeCase(a.name), accounts: snakeAccounts(a.accounts) }
          : { ...a, name: snakeCase(a.name) },
      );
    for (const ix of legacy.instructions) {
      const name = snakeCase(ix.name);
      if (have.has(name)) continue;
      instructions.push({
        ...ix,
        name,
        accounts: snakeAccounts(ix.accounts),
        args: ix.args.map((a: Json) => ({ ...a, name: snakeCase(a.name) })),
      });
      for (const t of legacy.types) if (!types.some((x) => x.name === t.name)) types.push(t);
    }
  }
  const used = new Set(spec.used);
  const missing = spec.used.filter((n) => !instructions.some((i) => i.name === n));
  if (missing.length > 0) throw new Error(`${spec.out}: not in the IDL: ${missing.join(", ")}`);
  // account metas keep what decoding needs: name and flags (no pda seeds, docs or relations)
  const slim = (accs: Json[]): Json[] =>
    accs.map((a) =>
      a.accounts
        ? { name: a.name, accounts: slim(a.accounts) }
        : {
            name: a.name,
            ...(a.writable ? { writable: true } : {}),
            ...(a.signer ? { signer: true } : {}),
            ...(a.optional ? { optional: true } : {}),
          },
    );
  const outIxs = instructions.map((ix) =>
    used.has(ix.name)
      ? { name: ix.name, discriminator: ix.discriminator, accounts: slim(ix.accounts), args: ix.args }
      : {
          name: ix.name,
          docs: ["recognised only: accounts and args omitted"],
          discriminator: ix.discriminator,
          accounts: [],
          args: [],
        },
  );
  const events: Json[] = [];
  const eventTypes: Json[] = [];
  for (const [name, fields] of Object.entries(spec.events ?? {})) {
    const ev = raw.events.find((e: Json) => e.name === name);
    const ty = types.find((t) => t.name === name);
    events.push(ev);
    eventTypes.push({
      ...ty,
      type: { kind: "struct", fields: ty.type.fields.filter((f: Json) => fields.includes(f.name)) },
    });
  }
  // the types the kept instructions and events reference, transitively
  const need = new Set<string>();
  for (const ix of outIxs) for (const a of ix.args) typeRefs(a.type, need);
  for (const t of eventTypes) typeRefs(t.type, need);
  let size = -1;
  while (need.size !== size) {
    size = need.size;
    for (const n of [...need]) typeRefs(types.find((t) => t.name === n)?.type, need);
  }
  const outTypes = [
    ...types.filter((t) => need.has(t.name) && !eventTypes.some((e) => e.name === t.name)),
    ...eventTypes,
  ];
  const metadata = { name: raw.metadata.name, version: raw.metadata.version, spec: raw.metadata.spec };
  const out = {
    address: raw.address,
    metadata,
    instructions: outIxs,
    events,
    types: outTypes.map(({ docs: _d, ...t }: Json) => t),
  };
  // one instruction / type per line keeps diffs readable without pretty-printing every number
  const body = (xs: Json[]) => xs.map((x) => "  " + JSON.stringify(x)).join(",\n");
  const text = `{"address":${JSON.stringify(out.address)},"metadata":${JSON.stringify(metadata)},\n"instructions":[\n${body(outIxs)}\n],\n"events":[\n${body(events)}\n],\n"types":[\n${body(out.types)}\n]}\n`;
  writeFileSync(idlPath(spec.out), text);
  console.log(
    `${spec.out}: ${spec.used.length} decoded, ${outIxs.length - spec.used.length} recognised, ${outTypes.length} types`,
  );
}
