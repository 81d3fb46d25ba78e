/**
 * Trades: what a wallet did in a transaction that went through a tracked DEX or aggregator, read from the wallet's
 * own balance changes rather than from any one pool's view. An aggregator route A -> B -> C through three pools, some
 * on venues no decoder reads, is one trade of A for C.
 * @dev pure. The trader is a signer whose balances moved as a trade: exactly one token down and one up, after SOL is
 * set aside when the trade is token for token (tips and fees paid beside it are not part of it).
 */
import { WSOL_MINT } from "../../core/presets.js";
import type { NewTrade } from "../../schema/index.js";
import { SYSTEM_PROGRAM_ID, decodeSystemLamports } from "./programs/system-program/index.js";
import { type TxView, ixBytes } from "./tx-view.js";

/** Where the transaction sits, as every row carries it. */
type At = { signature: string; slot: number; txIndex: number; blockTime: Date | null };

/**
 * A signer's net change per mint in the transaction, native SOL and wrapped SOL together as WSOL_MINT.
 * @dev SOL is the signer's own lamports plus the lamports of every token account it owns, plus the fee when it paid
 * it: rent moving between the wallet and its token accounts (created or closed in the transaction) cancels out, and
 * a wrapped-SOL account's token amount is counted once, inside its lamports. Rent the signer paid for other accounts
 * it created in the transaction and left open (System createAccount: a pool's or a mint's accounts, say), and SOL it
 * sent by a top-level System transfer to anything but its own token accounts (a tip, a bot's or a front end's fee),
 * are not part of a trade either and are added back.
 */
export function signerDeltas(view: TxView, signer: number, fee: bigint): Map<string, bigint> {
  const owner = view.keys[signer]!;
  const out = new Map<string, bigint>();
  const add = (mint: string, d: bigint) => {
    if (d !== 0n) out.set(mint, (out.get(mint) ?? 0n) + d);
  };
  const lamportDelta = (i: number): bigint => BigInt(view.postLamports[i] ?? 0) - BigInt(view.preLamports[i] ?? 0);
  let sol = lamportDelta(signer) + (signer === 0 ? fee : 0n);
  for (const acc of view.tokenAccounts.values()) {
    if (acc.owner !== owner || acc.index === signer) continue;
    sol += lamportDelta(acc.index);
    if (acc.mint !== WSOL_MINT) add(acc.mint, acc.post - acc.pre);
  }
  for (const ix of view.ixs) {
    if (ix.programId !== SYSTEM_PROGRAM_ID) continue;
    const bytes = ixBytes(ix);
    if (!bytes || bytes.length < 4 || bytes[1] || bytes[2] || bytes[3]) continue;
    const tag = bytes[0];
    // createAccount (0), createAccountWithSeed (3): rent for a new account; a transfer (2) of the signer's own at the
    // top level to an account not its token account: a tip or a fee paid beside the trade
    if (tag !== 0 && tag !== 3 && !(tag === 2 && ix.depth === 1)) continue;
    const m = decodeSystemLamports(bytes, ix.accounts);
    if (!m || m.from !== signer || m.to === undefined || m.to === signer) continue;
    // an account closed again in the transaction (a temporary wrapped-SOL account) gave its lamports back already
    if (BigInt(view.postLamports[m.to] ?? 0) === 0n) continue;
    if (view.tokenAccounts.get(m.to)?.owner !== owner) sol += m.lamports;
  }
  add(WSOL_MINT, sol);
  for (const [mint, d] of out) if (d === 0n) out.delete(mint);
  return out;
}

/**
 * The trade of one signer's net changes: the one mint it gave up and the one it got. SOL is set aside when another
 * token went each way (a token-for-token trade's tips and fees); anything else ambiguous (two tokens bought) is no
 * trade.
 */
export function tradeOf(deltas: Map<string, bigint>): { sold: [string, bigint]; bought: [string, bigint] } | undefined {
  let down = [...deltas].filter(([, d]) => d < 0n);
  let up = [...deltas].filter(([, d]) => d > 0n);
  const tokenDown = down.filter(([m]) => m !== WSOL_MINT);
  const tokenUp = up.filter(([m]) => m !== WSOL_MINT);
  if (tokenDown.length > 0 && tokenUp.length > 0) {
    down = tokenDown;
    up = tokenUp;
  }
  if (down.length !== 1 || up.length !== 1) return undefined;
  const [soldMint, soldDelta] = down[0]!;
  const [boughtMint, boughtDelta] = up[0]!;
  return { sold: [soldMint, -soldDelta], bought: [boughtMint, boughtDelta] };
}

/**
 * The trades of a successful transaction that invoked a tracked DEX or aggregator: one per signer whose balances
 * moved as a trade. `pools` are those the decoders saw it swap through, in execution order.
 */
export function tradeRows(view: TxView, signers: number, fee: bigint, pools: readonly string[], at: At): NewTrade[] {
  const out: NewTrade[] = [];
  const seen = new Set<string>();
  for (let s = 0; s < signers && s < view.keys.length; s++) {
    const trader = view.keys[s]!;
    if (seen.has(trader)) continue;
    seen.add(trader);
    const t = tradeOf(signerDeltas(view, s, fee));
    if (!t) continue;
    out.push({
      signature: at.signature,
      trader,
      soldMint: t.sold[0],
      soldAmount: t.sold[1],
      boughtMint: t.bought[0],
      boughtAmount: t.bought[1],
      pools: [...pools],
      slot: at.slot,
      txIndex: at.txIndex,
      blockTime: at.blockTime,
    });
  }
  return out;
}
