/**
 * Trades against the chain's own accounting and the routes' own arguments: every recorded Jupiter v6 route gives the
 * trade its instruction asked for (in amount sold, at least the slippage-bounded quote bought) equal to the trader's
 * own token-balance changes, also when it went through venues no decoder reads.
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { createDecoder } from "../../../indexer/decode/index.js";
import { createAnchorProgram } from "../../../indexer/decode/anchor/anchor-program.js";
import { createTxView, ixBytes } from "../../../indexer/decode/tx-view.js";
import { PRESET_NAMES, WSOL_MINT } from "../../../core/presets.js";
import type { RawBlockTransaction } from "../../../core/solana-types.js";
import { fixturePath } from "../../setup/fixtures.js";
import { allFixtureTxs } from "./fixture-txs.js";
import { shared } from "./shared.js";

const decoder = shared(() => createDecoder({ programs: [...PRESET_NAMES] }));
const jupiter = shared(() =>
  createAnchorProgram(
    JSON.parse(readFileSync(fixturePath("jupiter", "idl", "jupiter_agg_v6_idl_new_format.json"), "utf8")),
  ),
);

/** The net change of `owner`'s token accounts per mint, straight from pre/postTokenBalances. */
function ownerTokenDeltas(tx: RawBlockTransaction, owner: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const [list, sign] of [
    [tx.meta?.preTokenBalances ?? [], -1n],
    [tx.meta?.postTokenBalances ?? [], 1n],
  ] as const)
    for (const b of list)
      if (b.owner === owner) out.set(b.mint, (out.get(b.mint) ?? 0n) + sign * BigInt(b.uiTokenAmount.amount));
  return out;
}

type Route = {
  name: string;
  trader: string;
  inAmount: bigint;
  quotedOut: bigint;
  slippageBps: number;
  legs: number;
  /** the route ends in the mint it started from (an arbitrage) */
  circular: boolean;
};

/** The top-level Jupiter v6 route instruction of `tx`, decoded with the program's IDL. */
function routeOf(tx: RawBlockTransaction): Route | undefined {
  const view = createTxView(tx);
  for (const ix of view.ixs) {
    if (ix.programId !== jupiter().programId || ix.depth !== 1) continue;
    const m = jupiter().decodeInstruction(
      ixBytes(ix)!,
      ix.accounts.map((k) => view.keys[k]!),
    );
    if (!m.ok) continue;
    const d = m.decoded as { name: string; accounts: Record<string, string>; args: Record<string, unknown> };
    if (!/route/i.test(d.name)) continue;
    const source = view.tokenAccounts.get(view.indexOf.get(d.accounts.userSourceTokenAccount!) ?? -1);
    const sourceMint = d.accounts.sourceMint ?? source?.mint;
    return {
      name: d.name,
      trader: d.accounts.userTransferAuthority!,
      inAmount: BigInt(d.args.inAmount as bigint),
      quotedOut: BigInt(d.args.quotedOutAmount as bigint),
      slippageBps: Number(d.args.slippageBps),
      legs: (d.args.routePlan as unknown[]).length,
      circular: sourceMint === d.accounts.destinationMint,
    };
  }
  return undefined;
}

/**
 * A route's sold amount is its in amount, exactly for a token. For SOL, what left the trader's lamports (fee, rent of
 * accounts made and closed, tips beside the trade given back) may be a little less: a venue that fills a buy for less
 * than its quote (Pump AMM, in one recorded route, 59,315 of 10 SOL) or dust someone had sent to the address of the
 * trader's wrapped-SOL account before it was made (4,337 in another) comes back when the account is closed. Within
 * 0.1%, and never more: a fee, a tip or a rent counted in makes it more, a rent given back twice far less.
 */
function expectSold(mint: string, sold: bigint, inAmount: bigint, msg?: string) {
  if (mint !== WSOL_MINT) expect(sold, msg).toBe(inAmount);
  else
    expect(sold <= inAmount && inAmount - sold <= inAmount / 1000n, `${msg}: sold ${sold} of ${inAmount}`).toBe(true);
}

describe("trades", () => {
  // geyser-converted transactions lost their lookup-table entries upstream: their routes' accounts are unknown
  const routes = shared(() =>
    allFixtureTxs().flatMap((f) => {
      if (f.tx.meta?.err || f.folder === "transactions-converted-from-geyser") return [];
      const route = routeOf(f.tx);
      if (!route) return [];
      const d = decoder().decodeTransaction(f.tx, { slot: f.slot, blockTime: f.blockTime, txIndex: f.txIndex })!;
      return [{ f, route, d }];
    }),
  );

  test("every recorded Jupiter route is one trade: the in amount sold, the quote bought within slippage", () => {
    let trades = 0;
    let circular = 0;
    for (const { f, route, d } of routes()) {
      const sig = f.tx.transaction.signatures[0];
      const t = d.trades.filter((x) => x.trader === route.trader);
      const deltas = ownerTokenDeltas(f.tx, route.trader);
      if (route.circular) {
        // an arbitrage ends in the mint it started from: its profit is not a trade, nor the tip it paid
        expect(t, sig).toEqual([]);
        circular++;
        continue;
      }
      expect(t, sig).toHaveLength(1);
      const trade = t[0]!;
      expectSold(trade.soldMint, trade.soldAmount, route.inAmount, sig);
      const floor = (route.quotedOut * BigInt(10_000 - route.slippageBps)) / 10_000n;
      expect(trade.boughtAmount >= floor, `${sig}: bought ${trade.boughtAmount} < ${floor}`).toBe(true);
      // a token side (not SOL) equals the trader's own token-balance change
      for (const [mint, amount] of [
        [trade.soldMint, -trade.soldAmount],
        [trade.boughtMint, trade.boughtAmount],
      ] as const)
        if (mint !== WSOL_MINT) expect(deltas.get(mint), `${sig} ${mint}`).toBe(amount);
      expect(trade.soldMint).not.toBe(trade.boughtMint);
      trades++;
    }
    expect(trades).toBeGreaterThanOrEqual(9);
    expect(circular).toBeGreaterThanOrEqual(2);
  });

  test("a route through venues no decoder reads is still a whole trade", () => {
    const partial = routes().filter(
      ({ route, d }) => !route.circular && d.trades.length === 1 && d.trades[0]!.pools.length < route.legs,
    );
    // Meteora DAMM v1, Obric, Phoenix, SolFi, Invariant: legs with no swap row, the trade complete all the same
    expect(partial.length).toBeGreaterThanOrEqual(3);
    expect(partial.some(({ d }) => d.trades[0]!.pools.length === 0)).toBe(true);
    for (const { route, d } of partial) expectSold(d.trades[0]!.soldMint, d.trades[0]!.soldAmount, route.inAmount);
  });

  test("SOL moved beside a token-for-token trade is not part of it; rent paid and refunded is not either", () => {
    // USDC -> ORE through four legs: the signer also paid fees and rent in SOL
    const usdcOre = routes().find(({ f }) => f.file.includes("sharedAccountsRoute_1"))!;
    expect(usdcOre.d.trades).toHaveLength(1);
    expect(usdcOre.d.trades[0]!.soldMint).not.toBe(WSOL_MINT);
    expect(usdcOre.d.trades[0]!.boughtMint).not.toBe(WSOL_MINT);
    // SOL sold through a temporary wrapped-SOL account created and closed in the transaction: the route's in amount,
    // its rent (2,039,280 lamports) and the fee left out
    const solIn = routes().filter(({ route, d }) => !route.circular && d.trades[0]?.soldMint === WSOL_MINT);
    expect(solIn.length).toBeGreaterThanOrEqual(2);
    for (const { route, d } of solIn) expectSold(WSOL_MINT, d.trades[0]!.soldAmount, route.inAmount);
  });

  test("each signer of a bundle trades on its own; failed and DEX-less transactions trade nothing", () => {
    const bundle = allFixtureTxs().find((f) => f.file.endsWith("pumpfun_buy_bundle.json"))!;
    const d = decoder().decodeTransaction(bundle.tx, { slot: 1, blockTime: null, txIndex: 0 })!;
    const signers = bundle.tx.transaction.message.header.numRequiredSignatures;
    expect(d.trades.map((t) => t.trader).sort()).toEqual(
      bundle.tx.transaction.message.accountKeys.slice(0, signers).sort(),
    );
    for (const t of d.trades) {
      expect(t.soldMint).toBe(WSOL_MINT);
      expect(ownerTokenDeltas(bundle.tx, t.trader).get(t.boughtMint)).toBe(t.boughtAmount);
    }
    let failed = 0;
    let plain = 0;
    for (const f of allFixtureTxs()) {
      const x = decoder().decodeTransaction(f.tx, { slot: f.slot, blockTime: f.blockTime, txIndex: f.txIndex });
      if (!x) continue;
      if (f.tx.meta?.err) {
        failed++;
        expect(x.trades).toEqual([]);
      } else if (x.swaps.length === 0 && !x.transaction.programIds.includes(jupiter().programId)) {
        plain++;
        expect(x.trades, x.transaction.signature).toEqual([]);
      }
    }
    expect(failed).toBeGreaterThan(10);
    expect(plain).toBeGreaterThan(50);
  });
});
