/**
 * Pump.fun bonding curves (Anchor): a curve is a pool whose token vault is the curve's token account and
 * whose SOL vault is the curve account itself (lamports). Creation, buys, sells and migration (remove).
 * @dev a sell debits the curve's lamports directly (no System transfer to see), so the SOL side of a trade
 * is read from its TradeEvent (emit_cpi!, in the inner instructions); without one the measuring code falls
 * back to the curve's lamport delta.
 */
import idl from "./idl.json" with { type: "json" };
import { EVENT_IX_TAG_HEX } from "../../anchor/anchor-program.js";
import { type Rule, createAnchorDex } from "../../dex/anchor-dex.js";
import { type DexHit, type DexHitKind, type DexProgram, NATIVE_MINT } from "../../dex/dex-types.js";
import { hexPrefix, ixBytes } from "../../tx-view.js";

const curveHit =
  (kind: DexHitKind, actor: string): Rule =>
  ({ view, acc }) => {
    const curve = acc("bondingCurve");
    if (curve === undefined) return [];
    const mint = acc("mint");
    return [
      {
        kind,
        pool: view.keys[curve]!,
        vaultA: acc("associatedBondingCurve"),
        vaultB: curve,
        mintA: mint === undefined ? undefined : view.keys[mint],
        mintB: NATIVE_MINT,
        lamportVaultB: true,
        actor: view.keys[acc(actor) ?? -1] ?? "",
      },
    ];
  };

const trade: Rule = (ctx) => {
  const hits: DexHit[] = (curveHit("swap", "user") as Exclude<Rule, unknown[]>)(ctx);
  const hit = hits[0];
  if (!hit) return hits;
  const { view, ixIndex, program } = ctx;
  const ix = view.ixs[ixIndex]!;
  for (let i = ixIndex + 1; i < ix.end; i++) {
    const inner = view.ixs[i]!;
    if (inner.programId !== program.programId || inner.parent !== ixIndex) continue;
    const bytes = ixBytes(inner);
    if (!bytes || hexPrefix(bytes, 8) !== EVENT_IX_TAG_HEX) continue;
    const ev = program.decodeEvent(bytes.subarray(8));
    if (ev?.name !== "TradeEvent") continue;
    const sol = BigInt(String(ev.data.solAmount ?? "0"));
    hit.lamportNetB = ev.data.isBuy ? sol : -sol;
    break;
  }
  return hits;
};

/** Creates the Pump.fun decoder. */
export function createPumpfun(): DexProgram {
  return createAnchorDex({
    preset: "pumpfun",
    idl,
    eventsRead: ["TradeEvent"],
    rules: {
      create: curveHit("create", "user"),
      createV2: curveHit("create", "user"),
      buy: trade,
      buyExactSolIn: trade,
      sell: trade,
      migrate: curveHit("remove", "user"),
    },
  });
}
