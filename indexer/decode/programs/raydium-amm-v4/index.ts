/**
 * Raydium AMM v4 (not Anchor): a u8 tag, then a fixed layout; account positions per instruction and
 * account-count variant, from raydium-io/raydium-amm's instruction.rs (and the official IDL-like JSON).
 * Coin = A, pc = B, as the pool stores them.
 */
import type { DexHit, DexHitKind, DexIxResult, DexProgram } from "../../dex/dex-types.js";
import { vaultMint } from "../../dex/anchor-dex.js";
import type { TxView } from "../../tx-view.js";

/** The Raydium AMM v4 program id. */
export const RAYDIUM_AMM_V4_ID = "675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8";

/** Instruction names by tag. */
export const RAYDIUM_AMM_V4_INSTRUCTIONS: readonly string[] = [
  "initialize",
  "initialize2",
  "monitorStep",
  "deposit",
  "withdraw",
  "migrateToOpenBook",
  "setParams",
  "withdrawPnl",
  "withdrawSrm",
  "swapBaseIn",
  "preInitialize",
  "swapBaseOut",
  "simulateInfo",
  "adminCancelOrders",
  "createConfigAccount",
  "updateConfigAccount",
  "swapBaseInV2",
  "swapBaseOutV2",
];

// positions: [pool, vaultA (coin), vaultB (pc), actor, mintA, mintB]; -1 = last account, undefined = not named
type Layout = { kind: DexHitKind; pos: [number, number, number, number, number?, number?] };

function layout(tag: number, n: number): Layout | undefined {
  switch (tag) {
    case 1: // initialize2: amm 4, coin mint 8, pc mint 9, vaults 10/11, user wallet 17
      return n >= 18 ? { kind: "create", pos: [4, 10, 11, 17, 8, 9] } : undefined;
    case 3: // deposit: vaults 6/7, owner 12
      return n >= 13 ? { kind: "add", pos: [1, 6, 7, 12] } : undefined;
    case 4: // withdraw: vaults 6/7; owner is 18 with the serum accounts (22), 16 without (19/20)
      return n >= 22
        ? { kind: "remove", pos: [1, 6, 7, 18] }
        : n >= 17
          ? { kind: "remove", pos: [1, 6, 7, 16] }
          : undefined;
    case 7: // withdrawPnl: vaults 5/6, pnl owner 9
      return n >= 10 ? { kind: "remove", pos: [1, 5, 6, 9] } : undefined;
    case 9:
    case 11: // swaps: 18 accounts with amm target orders (vaults 5/6), 17 without (4/5); user owner last
      return n >= 18
        ? { kind: "swap", pos: [1, 5, 6, -1] }
        : n === 17
          ? { kind: "swap", pos: [1, 4, 5, -1] }
          : undefined;
    case 16:
    case 17: // swap v2: token program, amm, authority, coin vault, pc vault, user source, user dest, user owner
      return n >= 8 ? { kind: "swap", pos: [1, 3, 4, 7] } : undefined;
    default:
      return undefined;
  }
}

/** Creates the Raydium AMM v4 decoder. */
export function createRaydiumAmmV4(): DexProgram {
  return {
    preset: "raydium-amm-v4",
    programId: RAYDIUM_AMM_V4_ID,
    decodedInstructions: [
      "initialize2",
      "deposit",
      "withdraw",
      "withdrawPnl",
      "swapBaseIn",
      "swapBaseOut",
      "swapBaseInV2",
      "swapBaseOutV2",
    ],
    decode(view: TxView, ixIndex: number, data: Uint8Array): DexIxResult {
      const tag = data[0];
      const name = tag === undefined ? undefined : RAYDIUM_AMM_V4_INSTRUCTIONS[tag];
      if (tag === undefined || !name)
        return { type: "unknown", discriminator: tag === undefined ? "" : tag.toString(16).padStart(2, "0") };
      const ix = view.ixs[ixIndex]!;
      const l = layout(tag, ix.accounts.length);
      if (!l) {
        if ([1, 3, 4, 7, 9, 11, 16, 17].includes(tag)) {
          return {
            type: "error",
            discriminator: tag.toString(16).padStart(2, "0"),
            message: `${name}: unexpected account count ${ix.accounts.length}`,
          };
        }
        return { type: "other", name };
      }
      const at = (p: number | undefined) =>
        p === undefined ? undefined : ix.accounts[p < 0 ? ix.accounts.length + p : p];
      const [pool, va, vb, actor, ma, mb] = l.pos;
      const vaultA = at(va);
      const vaultB = at(vb);
      const mA = at(ma);
      const mB = at(mb);
      const hit: DexHit = {
        kind: l.kind,
        pool: view.keys[at(pool)!]!,
        vaultA,
        vaultB,
        mintA: mA !== undefined ? view.keys[mA] : vaultMint(view, vaultA),
        mintB: mB !== undefined ? view.keys[mB] : vaultMint(view, vaultB),
        actor: view.keys[at(actor) ?? -1] ?? "",
      };
      return { type: "hits", name, hits: [hit] };
    },
  };
}
