/**
 * A DEX preset built on an Anchor IDL: the IDL gives discriminators and account names, a small rule table
 * says which named accounts are the pool, its vaults and mints, and who acts. Carbon-style decoding with
 * the same AnchorProgram machinery that decodes user IDLs.
 */
import bs58 from "bs58";
import { type AnchorProgram, EVENT_IX_TAG_HEX, createAnchorProgram } from "../anchor/anchor-program.js";
import type { AnyIdl } from "../anchor/idl-normalize.js";
import { type TxView, hexPrefix } from "../tx-view.js";
import type { DexHit, DexHitKind, DexIxResult, DexProgram } from "./dex-types.js";

/** Named accounts of one instruction: index into the transaction's keys. */
export type NamedAccounts = (name: string) => number | undefined;

/** How one instruction maps onto a pool (account names are the IDL's, camelCase). */
export type HitRule = {
  kind: DexHitKind;
  pool: string;
  vaultA?: string;
  vaultB?: string;
  mintA?: string;
  mintB?: string;
  actor: string;
  /** the vaults are named by direction (input/output): order them by mint, as the pool does (mint A < mint B) */
  sortByMint?: boolean;
  lamportVaultB?: boolean;
  /** one-sided liquidity: the only vault the instruction names */
  oneSided?: string;
  pathSuffix?: string;
};

/** A rule: static hit rules, or a function for instructions that need more (events, args). */
export type Rule =
  | HitRule[]
  | ((ctx: { view: TxView; ixIndex: number; acc: NamedAccounts; program: AnchorProgram }) => DexHit[]);

const mintBytes = new Map<string, Uint8Array>();

/** Byte order of two base58 addresses (how programs compare Pubkeys). */
export function compareAddresses(a: string, b: string): number {
  const get = (s: string) => {
    let v = mintBytes.get(s);
    if (!v) {
      if (mintBytes.size > 50_000) mintBytes.clear();
      try {
        v = bs58.decode(s);
      } catch {
        v = new Uint8Array();
      }
      mintBytes.set(s, v);
    }
    return v;
  };
  return Buffer.compare(get(a), get(b));
}

/** The mint of a token vault, from the transaction's token balances. */
export function vaultMint(view: TxView, vault: number | undefined): string | undefined {
  return vault === undefined ? undefined : view.tokenAccounts.get(vault)?.mint;
}

/** Applies static hit rules to one instruction's named accounts. */
export function applyRules(view: TxView, rules: HitRule[], acc: NamedAccounts): DexHit[] {
  const hits: DexHit[] = [];
  for (const r of rules) {
    const pool = acc(r.pool);
    if (pool === undefined) continue;
    const key = (name: string | undefined) => (name === undefined ? undefined : acc(name));
    const addr = (i: number | undefined) => (i === undefined ? undefined : view.keys[i]);
    let vaultA = key(r.vaultA);
    let vaultB = key(r.vaultB);
    let mintA = addr(key(r.mintA)) ?? vaultMint(view, vaultA);
    let mintB = r.lamportVaultB ? addr(key(r.mintB)) : (addr(key(r.mintB)) ?? vaultMint(view, vaultB));
    if (r.sortByMint && mintA && mintB && compareAddresses(mintA, mintB) > 0) {
      [vaultA, vaultB] = [vaultB, vaultA];
      [mintA, mintB] = [mintB, mintA];
    }
    const hit: DexHit = {
      kind: r.kind,
      pool: view.keys[pool]!,
      vaultA,
      vaultB,
      mintA,
      mintB,
      actor: addr(key(r.actor)) ?? "",
    };
    if (r.lamportVaultB) hit.lamportVaultB = true;
    if (r.pathSuffix) hit.pathSuffix = r.pathSuffix;
    if (r.oneSided) hit.oneSidedVault = key(r.oneSided);
    hits.push(hit);
  }
  return hits;
}

/** Creates a DEX program from an embedded IDL and its rule table (keys: camelCase instruction names). */
export function createAnchorDex(opts: {
  preset: string;
  idl: AnyIdl;
  rules: Record<string, Rule>;
  eventsRead?: string[];
}): DexProgram {
  const program = createAnchorProgram(opts.idl);
  for (const name of Object.keys(opts.rules)) {
    if (!program.accountNames(name)) throw new Error(`${opts.preset}: rule for ${name}, which the IDL lacks`);
  }
  const indexes = new Map<string, Map<string, number>>();
  for (const name of Object.keys(opts.rules)) {
    indexes.set(name, new Map(program.accountNames(name)!.map((n, i) => [n, i])));
  }
  return {
    preset: opts.preset,
    programId: program.programId,
    decodedInstructions: Object.keys(opts.rules),
    eventsRead: opts.eventsRead,
    decode(view, ixIndex, data): DexIxResult {
      const name = program.instructionName(data);
      if (!name) {
        if (hexPrefix(data, 8) === EVENT_IX_TAG_HEX) return { type: "other", name: "emitCpiEvent" };
        return { type: "unknown", discriminator: hexPrefix(data, 8) };
      }
      const rule = opts.rules[name];
      if (!rule) return { type: "other", name };
      const ix = view.ixs[ixIndex]!;
      const pos = indexes.get(name)!;
      const acc: NamedAccounts = (n) => {
        const i = pos.get(n);
        return i === undefined ? undefined : ix.accounts[i];
      };
      const hits = typeof rule === "function" ? rule({ view, ixIndex, acc, program }) : applyRules(view, rule, acc);
      return { type: "hits", name, hits };
    },
  };
}
