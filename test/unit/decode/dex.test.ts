import { readFileSync } from "node:fs";
import bs58 from "bs58";
import { describe, expect, test } from "vitest";
import { createDecoder } from "../../../indexer/decode/index.js";
import { PRESETS, PRESET_NAMES } from "../../../core/presets.js";
import { fixturePath } from "../../setup/fixtures.js";
import { allInstructions, lamportDelta, tokenDeltas } from "./chain-accounting.js";
import { type FixtureTx, allFixtureTxs } from "./fixture-txs.js";
import { poolMismatches } from "./oracles.js";
import { shared } from "./shared.js";

const decoder = shared(() => createDecoder({ programs: [...PRESET_NAMES] }));
const txs = allFixtureTxs();
const DEX_PRESETS = PRESETS.filter((p) => p.kind === "dex");
const programOf = new Map(DEX_PRESETS.map((p) => [p.programIds[0]!, p.name]));

// Vaults found WITHOUT the decoder: the official IDLs in ../shared name the accounts of every instruction
const OFFICIAL_IDLS: Record<string, string> = {
  "raydium-cpmm": "raydium-cpmm/idl/raydium_cp_swap_idl_official.json",
  "raydium-clmm": "raydium-clmm/idl/amm_v3_idl_official.json",
  "orca-whirlpool": "orca-whirlpool/idl/whirlpool_idl_official_v0.6.1.json",
  "meteora-dlmm": "meteora-dlmm/idl/dlmm_idl_official_v0.12.0.json",
  "meteora-damm-v2": "meteora-damm/idl/cp_amm_damm_v2_idl_official.json",
  pumpfun: "pumpfun/idl/pump_idl_official.json",
  "pump-amm": "pump-amm/idl/pump_amm_idl_official.json",
};
const VAULT_NAME =
  /^(token_vault_[ab01]|token_[01ab]_vault|reserve_[xy]|reserve|input_vault|output_vault|token_vault_(one|two)_\w+|pool_(base|quote)_token_account|associated_bonding_curve|bonding_curve)$/;
const RAYDIUM_V4_AUTHORITY = "5Q544fKrFoe6tsEbD7S8EmxGTJYAKtTVhAW5Q5pge4j1";

type RawIdl = { instructions: { name: string; discriminator: number[]; accounts: { name: string }[] }[] };
const idlVaultPositions = new Map<string, Map<string, number[]>>();
for (const [preset, file] of Object.entries(OFFICIAL_IDLS)) {
  const idl = JSON.parse(readFileSync(fixturePath(file), "utf8")) as RawIdl;
  const byDisc = new Map<string, number[]>();
  for (const ix of idl.instructions) {
    const pos = ix.accounts.flatMap((a, i) => (VAULT_NAME.test(a.name) ? [i] : []));
    byDisc.set(Buffer.from(ix.discriminator).toString("hex"), pos);
  }
  idlVaultPositions.set(preset, byDisc);
}

/** Pool vaults whose balance changed in a successful transaction, per DEX, from the chain data alone. */
function movedVaults(f: FixtureTx): { preset: string; vault: string }[] {
  if (f.tx.meta?.err) return [];
  const deltas = tokenDeltas(f.tx);
  const out: { preset: string; vault: string }[] = [];
  for (const { programId, ix, accounts } of allInstructions(f.tx)) {
    const preset = programOf.get(programId);
    if (!preset) continue;
    let vaults: string[];
    if (preset === "raydium-amm-v4") vaults = accounts.filter((a) => deltas.get(a)?.owner === RAYDIUM_V4_AUTHORITY);
    else {
      const data = Buffer.from(bs58.decode(ix.data));
      const pos = idlVaultPositions.get(preset)?.get(data.subarray(0, 8).toString("hex")) ?? [];
      vaults = pos.map((i) => accounts[i]!).filter(Boolean);
    }
    for (const v of vaults) {
      const moved = deltas.has(v) ? deltas.get(v)!.delta !== 0n : preset === "pumpfun" && lamportDelta(f.tx, v) !== 0n;
      if (moved) out.push({ preset, vault: v });
    }
  }
  return out;
}

describe("DEX decoders against the chain's accounting", () => {
  const decoded = shared(() => txs.map((f) => ({ f, d: decoder().decodeTransaction(f.tx, f) })));

  test.each(DEX_PRESETS.map((p) => p.name))(
    "%s: per pool, swaps and liquidity add up to the vault deltas",
    (preset) => {
      let pools = 0;
      const bad: string[] = [];
      for (const { f, d } of decoded()) {
        if (!d) continue;
        const mine = d.pools.filter((p) => p.dex === preset);
        if (mine.length === 0) continue;
        pools += mine.length;
        bad.push(...poolMismatches(f.tx, { ...d, pools: mine }).map((m) => `${f.file}: ${m}`));
      }
      expect(bad).toEqual([]);
      expect(pools, "no pool of this DEX in the fixtures").toBeGreaterThan(0);
    },
  );

  test.each(DEX_PRESETS.map((p) => p.name))(
    "%s: every vault whose balance moved is on a decoded swap or liquidity event",
    (preset) => {
      let moved = 0;
      const missing: string[] = [];
      for (const { f, d } of decoded()) {
        for (const m of movedVaults(f)) {
          if (m.preset !== preset) continue;
          moved++;
          const pools = new Map((d?.pools ?? []).map((p) => [p.address, p]));
          const hit = [...(d?.swaps ?? []), ...(d?.liquidityEvents ?? [])].some((e) => {
            const p = pools.get(e.pool);
            return p !== undefined && (p.vaultA === m.vault || p.vaultB === m.vault);
          });
          if (!hit) missing.push(`${f.file} ${f.tx.transaction.signatures[0]}: vault ${m.vault}`);
        }
      }
      expect(missing).toEqual([]);
      expect(moved, "no moved vault of this DEX in the fixtures").toBeGreaterThan(0);
    },
  );

  test("a swap routed through Jupiter is recorded once, on the pool it hit, at the DEX instruction's path", () => {
    let routed = 0;
    for (const { f, d } of decoded()) {
      if (!d || !d.transaction.programIds.includes("JUP6LkbZbjS1jKKwapdHNy74zcZ3tLUZoi5QNyVTaV4")) continue;
      const paths = d.swaps.map((s) => s.instructionPath);
      expect(new Set(paths).size, f.file).toBe(paths.length);
      routed += d.swaps.filter((s) => s.instructionPath.includes(".")).length;
    }
    expect(routed).toBeGreaterThan(10);
  });

  test("a pool first seen in a swap is recorded from the swap's accounts, with reserves after the transaction", () => {
    let seen = 0;
    for (const { f, d } of decoded()) {
      if (!d) continue;
      const deltas = tokenDeltas(f.tx);
      for (const p of d.pools) {
        if (p.createdSlot !== null || !d.swaps.some((s) => s.pool === p.address)) continue;
        seen++;
        expect(p.lastSwapSlot).toBe(f.slot);
        expect(p.firstSeenSlot).toBe(f.slot);
        expect(deltas.get(p.vaultA)?.mint, `${f.file} vault A mint`).toBe(p.mintA);
        if (deltas.has(p.vaultB)) expect(deltas.get(p.vaultB)?.mint).toBe(p.mintB);
        const post = (f.tx.meta?.postTokenBalances ?? []).find(
          (b) =>
            f.tx.transaction.message.accountKeys.concat(
              f.tx.meta?.loadedAddresses?.writable ?? [],
              f.tx.meta?.loadedAddresses?.readonly ?? [],
            )[b.accountIndex] === p.vaultA,
        );
        expect(p.reserveA, f.file).toBe(post ? BigInt(post.uiTokenAmount.amount) : null);
      }
    }
    expect(seen).toBeGreaterThan(100);
  });

  test("pool creations record mints and vaults (created_slot and created_signature set)", () => {
    const created = decoded().flatMap(({ d }) => d?.pools.filter((p) => p.createdSlot !== null) ?? []);
    // the fixtures hold creations for these two (Whirlpool initialize_pool_v2, pump.fun create)
    expect(new Set(created.map((p) => p.dex))).toEqual(new Set(["orca-whirlpool", "pumpfun"]));
    for (const p of created) {
      expect(p.createdSignature).toBeTruthy();
      expect([p.mintA, p.mintB, p.vaultA, p.vaultB].every((a) => a.length >= 32)).toBe(true);
    }
  });

  test("pump.fun create: the curve's minted supply is the opening liquidity, its SOL side the curve account", () => {
    const f = txs.find((t) => t.file.endsWith("pumpfun_create_0.json"))!;
    const d = decoder().decodeTransaction(f.tx, f)!;
    const pool = d.pools.find((p) => p.createdSlot !== null)!;
    expect(pool.vaultB).toBe(pool.address);
    expect(pool.mintB).toBe("So11111111111111111111111111111111111111112");
    const add = d.liquidityEvents.find((l) => l.pool === pool.address && l.kind === "add")!;
    // the chain's own MintTo (tag 7, u64 amount) into the curve's token account
    const mintTo = allInstructions(f.tx).find(
      (i) =>
        i.programId === "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA" &&
        i.accounts[1] === pool.vaultA &&
        bs58.decode(i.ix.data)[0] === 7,
    )!;
    expect(add.amountA).toBe(Buffer.from(bs58.decode(mintTo.ix.data)).readBigUInt64LE(1));
    expect(add.amountB).toBe(0n);
    // the dev buy in the same transaction is a separate swap on the new curve
    expect(d.swaps.filter((s) => s.pool === pool.address)).toHaveLength(1);
  });
});
