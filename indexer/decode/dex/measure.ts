/**
 * Turns DEX hits into swap, liquidity and pool rows, measuring every amount from the pool's own side:
 * what its vaults received and paid in token movements inside the hitting instruction (Token-2022 fees
 * excluded from what a vault received), or in lamports for a SOL vault.
 * @dev per transaction and pool, sum(amount_in) - sum(amount_out) + adds - removes per mint equals the
 * vault's balance delta whenever every movement of the vault happened inside a decoded instruction.
 */
import type { NewLiquidityEvent, NewPool, NewSwap } from "../../../schema/index.js";
import type { TokenMove } from "../programs/token-program/index.js";
import { type LamportMove } from "../programs/system-program/index.js";
import type { TxView } from "../tx-view.js";
import type { DexHit, DexProgram } from "./dex-types.js";

/** One hit and the instruction it came from. */
export type HitAt = { ix: number; hit: DexHit; dex: DexProgram };

/** Where the rows go. */
export type RowContext = { signature: string; slot: number; txIndex: number; blockTime: Date | null };

/** Rows measured for one transaction, plus the hits that could not be resolved. */
export type Measured = {
  swaps: NewSwap[];
  liquidity: NewLiquidityEvent[];
  pools: NewPool[];
  unresolved: { hit: HitAt; reason: string }[];
};

type Nets = { a: bigint; b: bigint };

function tokenNet(
  view: TxView,
  moves: ReadonlyArray<TokenMove | undefined>,
  ix: number,
  vault: number | undefined,
): bigint {
  // Stryker disable next-line ConditionalExpression: equivalent, only hits naming both vaults are measured (the rest are unresolved); the test is for the type checker
  if (vault === undefined) return 0n;
  let net = 0n;
  const end = view.ixs[ix]!.end;
  for (let i = ix + 1; i < end; i++) {
    const m = moves[i];
    if (!m) continue;
    if (m.destination === vault) net += m.amount - m.fee;
    if (m.source === vault) net -= m.amount;
  }
  return net;
}

function lamportNet(
  view: TxView,
  lamports: ReadonlyArray<LamportMove | undefined>,
  ix: number,
  vault: number | undefined,
): bigint {
  // Stryker disable next-line ConditionalExpression: equivalent, only hits naming both vaults are measured (the rest are unresolved); the test is for the type checker
  if (vault === undefined) return 0n;
  let net = 0n;
  const end = view.ixs[ix]!.end;
  for (let i = ix + 1; i < end; i++) {
    const m = lamports[i];
    if (!m) continue;
    if (m.to === vault) net += m.lamports;
    if (m.from === vault) net -= m.lamports;
  }
  return net;
}

// a vault's balance after the transaction: token amount, or lamports for a SOL vault
function reserve(view: TxView, vault: number | undefined, lamportVault: boolean | undefined): bigint | null {
  // Stryker disable next-line ConditionalExpression: equivalent, only hits naming both vaults are measured (the rest are unresolved); the test is for the type checker
  if (vault === undefined) return null;
  if (lamportVault) {
    const l = view.postLamports[vault];
    return l === undefined ? null : BigInt(l);
  }
  const t = view.tokenAccounts.get(vault);
  return t ? t.post : null;
}

/**
 * Measures every hit of the transaction. `lamports` holds transfers (System transfer / transferWithSeed)
 * by instruction index; `created` the lamports each account was funded with by createAccount.
 */
export function measureHits(
  view: TxView,
  hits: HitAt[],
  moves: ReadonlyArray<TokenMove | undefined>,
  lamports: ReadonlyArray<LamportMove | undefined>,
  created: ReadonlyMap<number, bigint>,
  ctx: RowContext,
): Measured {
  const out: Measured = { swaps: [], liquidity: [], pools: [], unresolved: [] };
  // one-sided liquidity names a single vault: take the pool's pair from another hit in the transaction
  for (const h of hits) {
    const v = h.hit.oneSidedVault;
    if (v === undefined || (h.hit.vaultA !== undefined && h.hit.vaultB !== undefined)) continue;
    const other = hits.find(
      (o) => o.hit.pool === h.hit.pool && o.hit.vaultA !== undefined && o.hit.vaultB !== undefined,
    );
    if (other && (other.hit.vaultA === v || other.hit.vaultB === v)) {
      Object.assign(h.hit, {
        vaultA: other.hit.vaultA,
        vaultB: other.hit.vaultB,
        mintA: other.hit.mintA,
        mintB: other.hit.mintB,
      });
    }
  }
  const usable: HitAt[] = [];
  for (const h of hits) {
    const { vaultA, vaultB, mintA, mintB } = h.hit;
    if (vaultA === undefined || vaultB === undefined)
      out.unresolved.push({ hit: h, reason: "pool vaults not named by the instruction" });
    else if (!mintA || !mintB) out.unresolved.push({ hit: h, reason: "pool vault mints not in the token balances" });
    else usable.push(h);
  }
  const nets: Nets[] = usable.map((h) => ({
    a: tokenNet(view, moves, h.ix, h.hit.vaultA),
    b: h.hit.lamportVaultB
      ? (h.hit.lamportNetB ?? lamportNet(view, lamports, h.ix, h.hit.vaultB))
      : tokenNet(view, moves, h.ix, h.hit.vaultB),
  }));
  // a SOL vault is debited by its owning program without an instruction to see; when a single hit without
  // event data touches it, the rest of its lamport delta (account funding excluded) is that hit's
  const lamportVaults = new Map<number, number[]>();
  usable.forEach((h, i) => {
    if (h.hit.lamportVaultB) lamportVaults.set(h.hit.vaultB!, [...(lamportVaults.get(h.hit.vaultB!) ?? []), i]);
  });
  for (const [vault, idxs] of lamportVaults) {
    const open = idxs.filter((i) => usable[i]!.hit.lamportNetB === undefined);
    if (open.length !== 1) continue;
    const delta =
      BigInt(view.postLamports[vault] ?? 0) - BigInt(view.preLamports[vault] ?? 0) - (created.get(vault) ?? 0n);
    const measured = idxs.reduce((s, i) => s + nets[i]!.b, 0n);
    nets[open[0]!]!.b += delta - measured;
  }

  const pools = new Map<string, NewPool>();
  usable.forEach((h, i) => {
    const { hit } = h;
    const n = nets[i]!;
    const path = view.ixs[h.ix]!.path + (hit.pathSuffix ?? "");
    let pool = pools.get(hit.pool);
    if (!pool) {
      pool = {
        address: hit.pool,
        dex: h.dex.preset,
        programId: h.dex.programId,
        mintA: hit.mintA!,
        mintB: hit.mintB!,
        vaultA: view.keys[hit.vaultA!]!,
        vaultB: view.keys[hit.vaultB!]!,
        createdSlot: null,
        createdSignature: null,
        reserveA: reserve(view, hit.vaultA, false),
        reserveB: reserve(view, hit.vaultB, hit.lamportVaultB),
        reservesSlot: ctx.slot,
        lastSwapSlot: null,
        firstSeenSlot: ctx.slot,
      };
      pools.set(hit.pool, pool);
    }
    const base = {
      signature: ctx.signature,
      instructionPath: path,
      pool: hit.pool,
      slot: ctx.slot,
      txIndex: ctx.txIndex,
      blockTime: ctx.blockTime,
    };
    if (hit.kind === "swap") {
      pool.lastSwapSlot = ctx.slot;
      // the vault that gained is the input side; with no movement at all, report A -> B with zero amounts
      const aIn = n.a > 0n || n.b < 0n || (n.a === 0n && n.b === 0n);
      out.swaps.push({
        ...base,
        dex: h.dex.preset,
        trader: hit.actor,
        mintIn: aIn ? hit.mintA! : hit.mintB!,
        mintOut: aIn ? hit.mintB! : hit.mintA!,
        amountIn: aIn ? n.a : n.b,
        amountOut: aIn ? -n.b : -n.a,
      });
      return;
    }
    if (hit.kind === "create") {
      pool.createdSlot = ctx.slot;
      pool.createdSignature = ctx.signature;
      if (n.a === 0n && n.b === 0n) return;
    }
    // liquidity: the measured signs decide add or remove; mixed signs keep the rule's kind with signed amounts
    let kind: "add" | "remove" = hit.kind === "remove" ? "remove" : "add";
    if (n.a >= 0n && n.b >= 0n && (n.a > 0n || n.b > 0n)) kind = "add";
    else if (n.a <= 0n && n.b <= 0n && (n.a < 0n || n.b < 0n)) kind = "remove";
    const sign = kind === "add" ? 1n : -1n;
    out.liquidity.push({ ...base, kind, owner: hit.actor, amountA: sign * n.a, amountB: sign * n.b });
  });
  out.pools = [...pools.values()];
  return out;
}
