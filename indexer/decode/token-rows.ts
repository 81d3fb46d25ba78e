/**
 * Token rows of one transaction: transfer rows from the decoded token effects, with each account's mint and
 * owner taken from the transaction's own token balances first, then from its instructions (initializeAccount*,
 * ATA creation); and the mints it touched (tokens seen), with authorities when it sets them.
 */
import type { DecodeWarning, DecodedTransaction, TokenSeen } from "../../core/decoded.js";
import type { NewTransfer } from "../../schema/index.js";
import type { TokenEffect } from "./programs/token-program/index.js";
import type { TxView } from "./tx-view.js";
import type { TxPosition } from "./types.js";
import { TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID } from "../../core/presets.js";

const TOKEN_PROGRAMS: Record<string, TokenSeen["program"]> = {
  [TOKEN_PROGRAM_ID]: "spl-token",
  [TOKEN_2022_PROGRAM_ID]: "token-2022",
};

/** The token entry of `mint` in `tokens`, added if new; a known decimals count fills in a missing one. */
function seeToken(
  tokens: Map<string, TokenSeen>,
  slot: number,
  mint: string,
  program: TokenSeen["program"],
  decimals: number | null,
): TokenSeen {
  let t = tokens.get(mint);
  if (!t) tokens.set(mint, (t = { mint, program, decimals, slot }));
  else if (
    // Stryker disable next-line ConditionalExpression: equivalent, a balance's decimals are never null and the only caller that passes null (setAuthority) is followed by none but initializeMint, which sets them itself
    t.decimals === null
  )
    t.decimals = decimals;
  return t;
}

/** The key at index `i` of the transaction's account list (undefined for no index). */
function keyAt(keys: string[], i: number | undefined): string | undefined {
  // Stryker disable next-line ConditionalExpression: equivalent, keys[undefined] is undefined as well (the test is for the type checker)
  return i === undefined ? undefined : keys[i];
}

/** The entry of account `i` in `map` (undefined for no index). */
function entryOf(map: Map<number, string>, i: number | undefined): string | undefined {
  // Stryker disable next-line ConditionalExpression: equivalent, no entry has the key undefined (the test is for the type checker)
  return i === undefined ? undefined : map.get(i);
}

/** Builds transfer rows and the tokens seen from the token effects, resolving mints and owners. */
export function tokenRows(
  view: TxView,
  at: TxPosition,
  blockTime: Date | null,
  effects: { ix: number; programId: string; effect: TokenEffect }[],
  out: DecodedTransaction,
  isTracked: (programId: string) => boolean,
): void {
  // what the transaction itself says about accounts: token balances first, then instructions
  const mintOf = new Map<number, string>();
  const ownerOf = new Map<number, string>();
  for (const [idx, t] of view.tokenAccounts) {
    mintOf.set(idx, t.mint);
    if (t.owner) ownerOf.set(idx, t.owner);
  }
  const tokens = new Map<string, TokenSeen>();
  for (const t of view.tokenAccounts.values()) {
    const program = t.programId ? TOKEN_PROGRAMS[t.programId] : undefined;
    seeToken(tokens, at.slot, t.mint, program ?? "spl-token", t.decimals);
  }
  for (const { effect, programId } of effects) {
    if (
      effect.type === "initAccount" &&
      // Stryker disable next-line ConditionalExpression: equivalent, an entry under the key undefined is never read (entryOf)
      effect.account !== undefined
    ) {
      const mint = keyAt(view.keys, effect.mint);
      if (mint && !mintOf.has(effect.account)) mintOf.set(effect.account, mint);
      const owner = effect.owner ?? keyAt(view.keys, effect.ownerIndex);
      if (owner && !ownerOf.has(effect.account)) ownerOf.set(effect.account, owner);
    } else if (
      // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent, only initializeAccount* and ATA creations have an account, and an entry under the key undefined is never read (entryOf)
      effect.type === "ataCreate" &&
      // Stryker disable next-line ConditionalExpression: equivalent, an entry under the key undefined is never read (entryOf)
      effect.account !== undefined
    ) {
      const wallet = keyAt(view.keys, effect.wallet);
      const mint = keyAt(view.keys, effect.mint);
      if (wallet && !ownerOf.has(effect.account)) ownerOf.set(effect.account, wallet);
      if (mint && !mintOf.has(effect.account)) mintOf.set(effect.account, mint);
    } else if (effect.type === "initMint") {
      const mint = keyAt(view.keys, effect.mint);
      if (mint) {
        // Stryker disable next-line StringLiteral: equivalent, unreachable: initializeMint* effects only come from the two token programs, both in the table
        const t = seeToken(tokens, at.slot, mint, TOKEN_PROGRAMS[programId] ?? "spl-token", effect.decimals);
        t.decimals = effect.decimals;
        t.mintAuthority = effect.mintAuthority;
        t.freezeAuthority = effect.freezeAuthority;
      }
    } else if (
      // Stryker disable next-line ConditionalExpression: equivalent, no other effect has a target, and keyAt(keys, undefined) is undefined
      effect.type === "setAuthority"
    ) {
      const target = keyAt(view.keys, effect.target);
      // 0 = MintTokens, 1 = FreezeAccount: authorities of a mint
      if (target && (effect.authorityType === 0 || effect.authorityType === 1)) {
        // Stryker disable next-line StringLiteral: equivalent, unreachable: setAuthority effects only come from the two token programs, both in the table
        const t = seeToken(tokens, at.slot, target, TOKEN_PROGRAMS[programId] ?? "spl-token", null);
        if (effect.authorityType === 0) t.mintAuthority = effect.newAuthority;
        else t.freezeAuthority = effect.newAuthority;
      }
    }
  }
  for (const { ix, programId, effect } of effects) {
    if (effect.type !== "move" || !isTracked(programId)) continue;
    const m = effect.move;
    const mint = keyAt(view.keys, m.mint) ?? entryOf(mintOf, m.source) ?? entryOf(mintOf, m.destination);
    const path = view.ixs[ix]!.path;
    if (!mint) {
      const w: DecodeWarning = {
        kind: "decode_error",
        programId,
        discriminator: "",
        signature: view.signature,
        instructionPath: path,
        message: "mint of the token movement is not known from the transaction",
      };
      out.warnings.push(w);
      continue;
    }
    const src = keyAt(view.keys, m.source);
    const dst = keyAt(view.keys, m.destination);
    const row: NewTransfer = {
      signature: view.signature,
      instructionPath: path,
      kind: m.kind,
      mint,
      source: src ?? null,
      destination: dst ?? null,
      // a transfer signed by a delegate names the delegate; token balances (first) name the real owner
      sourceOwner:
        // Stryker disable next-line ConditionalExpression: equivalent, a move without a source is a mint (no owner either way) or an instruction without accounts, whose authority is missing too
        m.source !== undefined
          ? (entryOf(ownerOf, m.source) ?? (m.kind === "transfer" ? keyAt(view.keys, m.authority) : undefined) ?? null)
          : null,
      destinationOwner: entryOf(ownerOf, m.destination) ?? null,
      amount: m.amount,
      fee: m.fee,
      slot: at.slot,
      txIndex: at.txIndex,
      blockTime,
    };
    out.transfers.push(row);
  }
  out.tokens = [...tokens.values()];
}
