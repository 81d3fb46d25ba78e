/**
 * Prices a run of slots in chain order, pure: pool reserves and swap volumes after each slot, the price each moved
 * pool sets, the pools' TVL and every swap's and trade's USD value. A pool's price is the ratio of what its swaps moved
 * of each mint in the last slot it swapped in (a concentrated-liquidity pool's vault ratio says nothing of its
 * price); its depth is its quote side's reserve. The state it starts from is what the stage read back from its
 * own tables at its cursor, so one run over [a, c] equals runs over [a, b] then (b, c].
 */
import { type PriceBook, poolTvl, priceFromSwaps, priceOf, quotes, valueOf } from "./compute.js";

/**
 * A pool as the engine tracks it, as of the slot being priced: its mints, its reserves, and what its swaps moved of
 * each mint in the last slot it swapped in (null before any).
 */
export type PoolState = {
  mintA: string;
  mintB: string;
  reserveA: bigint | null;
  reserveB: bigint | null;
  volumeA: bigint | null;
  volumeB: bigint | null;
};

/** One slot's input: the reserves of the pools it moved, its swaps and its trades. */
export type SlotInput = {
  slot: number;
  blockTime: Date | null;
  changes: { pool: string; reserveA: bigint; reserveB: bigint }[];
  swaps: {
    signature: string;
    instructionPath: string;
    pool: string;
    mintIn: string;
    amountIn: bigint;
    mintOut: string;
    amountOut: bigint;
  }[];
  trades: {
    signature: string;
    trader: string;
    soldMint: string;
    soldAmount: bigint;
    boughtMint: string;
    boughtAmount: bigint;
  }[];
};

/** What a run writes. */
export type PricingOutput = {
  tokenPrices: { mint: string; slot: number; price: bigint; pool: string; liquidity: bigint; blockTime: Date | null }[];
  poolTvl: ({ pool: string; slot: number; tvl: bigint | null; blockTime: Date | null } & Omit<
    PoolState,
    "mintA" | "mintB"
  >)[];
  /** with the row's slot: the partition it lives in */
  swapValues: { signature: string; instructionPath: string; slot: number; value: bigint | null }[];
  tradeValues: { signature: string; trader: string; slot: number; value: bigint | null }[];
};

/** The engine's inputs beside the slots. */
export type EngineState = {
  book: PriceBook;
  pools: Map<string, PoolState>;
  /** per mint, the pools that may price it (against SOL or a stablecoin), sorted by address */
  candidates: Map<string, string[]>;
  /** the liquidity floor at USD scale */
  floor: bigint;
};

/** The mints a moved pool may reprice: each side its other side quotes. */
export function repricedBy(book: PriceBook, p: Pick<PoolState, "mintA" | "mintB">): string[] {
  const out: string[] = [];
  if (quotes(book, p.mintA, p.mintB)) out.push(p.mintA);
  if (quotes(book, p.mintB, p.mintA)) out.push(p.mintB);
  return out;
}

/** `mint`'s price from its deepest pool at or above the floor, or null when none qualifies. */
function bestPrice(st: EngineState, mint: string): { price: bigint; pool: string; liquidity: bigint } | null {
  let best: { price: bigint; pool: string; liquidity: bigint } | null = null;
  for (const address of st.candidates.get(mint) ?? []) {
    const p = st.pools.get(address);
    if (!p || p.reserveA == null || p.reserveB == null || p.volumeA == null || p.volumeB == null) continue;
    const baseIsA = p.mintA === mint;
    const quotePrice = priceOf(st.book, baseIsA ? p.mintB : p.mintA);
    if (quotePrice == null) continue;
    const r = priceFromSwaps({
      base: baseIsA ? p.volumeA : p.volumeB,
      quote: baseIsA ? p.volumeB : p.volumeA,
      quoteReserve: baseIsA ? p.reserveB : p.reserveA,
      quotePrice,
    });
    if (!r || r.liquidity < st.floor) continue;
    // Deepest wins; candidates come sorted by address, so a tie goes to the lowest address.
    if (!best || r.liquidity > best.liquidity) best = { ...r, pool: address };
  }
  return best;
}

/** Runs `slots` (ascending) over `st`, which it advances; returns the rows to write. */
export function priceSlots(st: EngineState, slots: SlotInput[]): PricingOutput {
  const out: PricingOutput = { tokenPrices: [], poolTvl: [], swapValues: [], tradeValues: [] };
  const { book } = st;
  for (const s of slots) {
    const moved = new Set<string>();
    for (const c of s.changes) {
      const p = st.pools.get(c.pool);
      if (!p) continue;
      p.reserveA = c.reserveA;
      p.reserveB = c.reserveB;
      moved.add(c.pool);
    }
    const volumes = new Map<string, { a: bigint; b: bigint }>();
    for (const w of s.swaps) {
      const p = st.pools.get(w.pool);
      if (!p) continue;
      const v = volumes.get(w.pool) ?? { a: 0n, b: 0n };
      const inIsA = w.mintIn === p.mintA;
      v.a += inIsA ? w.amountIn : w.amountOut;
      v.b += inIsA ? w.amountOut : w.amountIn;
      volumes.set(w.pool, v);
      moved.add(w.pool);
    }
    for (const [address, v] of volumes) {
      // a slot whose swaps moved nothing on one side sets no ratio: the last one stands
      if (v.a <= 0n || v.b <= 0n) continue;
      const p = st.pools.get(address)!;
      p.volumeA = v.a;
      p.volumeB = v.b;
    }
    const mints = new Set([...moved].flatMap((a) => repricedBy(book, st.pools.get(a)!)));
    // SOL first: the other mints' SOL pools are measured at its new price.
    const order = [...mints].sort((x, y) => Number(y === book.sol) - Number(x === book.sol) || (x < y ? -1 : 1));
    for (const mint of order) {
      const best = bestPrice(st, mint);
      if (!best) continue;
      book.prices.set(mint, best.price);
      out.tokenPrices.push({ mint, slot: s.slot, blockTime: s.blockTime, ...best });
    }
    for (const address of [...moved].sort()) {
      const { mintA, mintB, ...state } = st.pools.get(address)!;
      const tvl =
        state.reserveA == null || state.reserveB == null
          ? null
          : poolTvl(state.reserveA, priceOf(book, mintA), state.reserveB, priceOf(book, mintB));
      out.poolTvl.push({ pool: address, slot: s.slot, ...state, tvl, blockTime: s.blockTime });
    }
    for (const w of s.swaps)
      out.swapValues.push({
        signature: w.signature,
        instructionPath: w.instructionPath,
        slot: s.slot,
        value: valueOf(book, { mint: w.mintIn, amount: w.amountIn }, { mint: w.mintOut, amount: w.amountOut }),
      });
    for (const t of s.trades)
      out.tradeValues.push({
        signature: t.signature,
        trader: t.trader,
        slot: s.slot,
        value: valueOf(
          book,
          { mint: t.soldMint, amount: t.soldAmount },
          { mint: t.boughtMint, amount: t.boughtAmount },
        ),
      });
  }
  return out;
}
