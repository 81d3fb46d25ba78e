/**
 * dex/measure.ts where the vaults' movements alone do not decide a row: a swap or a liquidity event whose transfers
 * moved nothing (the instruction's rule decides), and a pump.fun trade whose TradeEvent is missing (the curve's SOL
 * side then comes from its lamport delta). Each case is a recorded transaction with the named field edited: the
 * transfer amounts set to 0, or the event's tag changed.
 */
import bs58 from "bs58";
import { describe, expect, test } from "vitest";
import { type DecodedTransaction, createDecoder } from "../../../indexer/decode/index.js";
import { accountKeys } from "../../../indexer/decode/tx-view.js";
import { PRESET_NAMES, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID } from "../../../core/presets.js";
import type { RawBlockTransaction } from "../../../core/solana-types.js";
import { allFixtureTxs } from "./fixture-txs.js";
import { shared } from "./shared.js";

const decoder = shared(() => createDecoder({ programs: [...PRESET_NAMES] }));
const PUMPFUN = "6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P";

/** The transaction of fixture file `name` that `pick` accepts once decoded. */
function fixture(name: string, pick: (d: DecodedTransaction) => boolean) {
  for (const f of allFixtureTxs()) {
    if (!f.file.endsWith(name)) continue;
    const d = decoder().decodeTransaction(f.tx, f);
    if (d && pick(d)) return { f, before: d };
  }
  throw new Error(`fixture ${name} not found`);
}

/**
 * The transaction with the amount of every token transfer under top-level instruction `top` set to 0, or only of
 * those `which` accepts (by their account indexes).
 */
function transfersZeroed(
  tx: RawBlockTransaction,
  top: number,
  which: (accounts: number[]) => boolean = () => true,
): RawBlockTransaction {
  const copy = structuredClone(tx);
  const keys = accountKeys(copy);
  let edited = 0;
  for (const group of copy.meta!.innerInstructions!) {
    if (group.index !== top) continue;
    for (const ix of group.instructions) {
      const pid = keys[ix.programIdIndex];
      if (pid !== TOKEN_PROGRAM_ID && pid !== TOKEN_2022_PROGRAM_ID) continue;
      const data = bs58.decode(ix.data);
      if ((data[0] !== 3 && data[0] !== 12) || !which(ix.accounts)) continue;
      data.fill(0, 1, 9);
      ix.data = bs58.encode(data);
      edited++;
    }
  }
  expect(edited).toBeGreaterThan(0);
  return copy;
}

describe("measure: nothing moved", () => {
  test("a swap whose vault transfers moved nothing is stored from A to B with zero amounts", () => {
    const { f, before } = fixture("sparseSwap__swapV2+Supplemental.json", (d) => d.swaps.length === 1);
    const [swap] = before.swaps;
    const pool = before.pools[0]!;
    // recorded: A in, B out
    expect([swap!.mintIn, swap!.mintOut]).toEqual([pool.mintA, pool.mintB]);
    const d = decoder().decodeTransaction(transfersZeroed(f.tx, 0), f)!;
    expect(d.swaps).toEqual([{ ...swap, amountIn: 0n, amountOut: 0n }]);
  });

  test("a swap recorded from B to A is stored from A to B once nothing moved", () => {
    const { f, before } = fixture(
      ".json",
      (d) =>
        d.swaps.length === 1 &&
        d.swaps[0]!.dex === "orca-whirlpool" &&
        !d.swaps[0]!.instructionPath.includes(".") &&
        d.swaps[0]!.mintIn === d.pools[0]!.mintB,
    );
    const pool = before.pools[0]!;
    const top = Number(before.swaps[0]!.instructionPath.split(".")[0]);
    const d = decoder().decodeTransaction(transfersZeroed(f.tx, top), f)!;
    expect(d.swaps).toEqual([
      { ...before.swaps[0], mintIn: pool.mintA, mintOut: pool.mintB, amountIn: 0n, amountOut: 0n },
    ]);
  });

  test.each([
    ["what came in", "vaultA"],
    ["what went out", "vaultB"],
  ] as const)(
    "a swap where only %s is left moves the other side zero: still A to B, amounts not negative",
    (_, zeroed) => {
      const { f, before } = fixture("sparseSwap__swapV2+Supplemental.json", (d) => d.swaps.length === 1);
      const [swap] = before.swaps;
      const pool = before.pools[0]!;
      const vault = accountKeys(f.tx).indexOf(pool[zeroed]);
      // the vault's own transfer: into vault A (source elsewhere) or out of vault B
      const d = decoder().decodeTransaction(
        transfersZeroed(f.tx, 0, (a) => a.includes(vault)),
        f,
      )!;
      expect(d.swaps).toEqual([zeroed === "vaultA" ? { ...swap, amountIn: 0n } : { ...swap, amountOut: 0n }]);
    },
  );

  test("a swap from B to A whose A side paid nothing stays from B to A", () => {
    const { f, before } = fixture(
      ".json",
      (d) =>
        d.swaps.length === 1 &&
        d.swaps[0]!.dex === "orca-whirlpool" &&
        !d.swaps[0]!.instructionPath.includes(".") &&
        d.swaps[0]!.mintIn === d.pools[0]!.mintB,
    );
    const pool = before.pools[0]!;
    const vaultA = accountKeys(f.tx).indexOf(pool.vaultA);
    const top = Number(before.swaps[0]!.instructionPath);
    const d = decoder().decodeTransaction(
      transfersZeroed(f.tx, top, (a) => a.includes(vaultA)),
      f,
    )!;
    expect(d.swaps).toEqual([{ ...before.swaps[0], amountOut: 0n }]);
  });

  test("a pool created without funding has no liquidity event", () => {
    const { before } = fixture("tokenExtensions__initializePoolV2.json", (d) =>
      d.pools.some((p) => p.createdSlot !== null),
    );
    expect(before.pools.filter((p) => p.createdSlot !== null)).toHaveLength(1);
    expect(before.liquidityEvents).toEqual([]);
  });

  test("a fee collection that paid nothing is still a remove, with zero amounts", () => {
    const { f, before } = fixture("collectFeesV2+TokenToken.json", (d) => d.liquidityEvents.length === 1);
    expect(before.liquidityEvents.map((l) => [l.kind, l.amountA, l.amountB])).toEqual([["remove", 581n, 581n]]);
    const d = decoder().decodeTransaction(transfersZeroed(f.tx, 0), f)!;
    expect(d.liquidityEvents).toEqual([{ ...before.liquidityEvents[0], amountA: 0n, amountB: 0n }]);
  });

  test("a liquidity increase that moved nothing is still an add, with zero amounts", () => {
    const { f, before } = fixture("increaseLiquidityV2+TransferHook.json", (d) => d.liquidityEvents.length === 1);
    expect(before.liquidityEvents.map((l) => [l.kind, l.amountA, l.amountB])).toEqual([["add", 446481n, 1000000n]]);
    const d = decoder().decodeTransaction(transfersZeroed(f.tx, 0), f)!;
    expect(d.liquidityEvents).toEqual([{ ...before.liquidityEvents[0], amountA: 0n, amountB: 0n }]);
  });
});

describe("measure: a pump.fun trade without its TradeEvent", () => {
  /** The transaction with the tag of the curve's emit_cpi event under `path` changed: no event to read. */
  function eventDropped(tx: RawBlockTransaction, top: number): RawBlockTransaction {
    const copy = structuredClone(tx);
    const keys = accountKeys(copy);
    const group = copy.meta!.innerInstructions!.find((g) => g.index === top)!;
    const ev = group.instructions.filter((ix) => keys[ix.programIdIndex] === PUMPFUN).at(-1)!;
    const data = bs58.decode(ev.data);
    data[0] = data[0]! ^ 0xff;
    ev.data = bs58.encode(data);
    return copy;
  }

  test.each([
    ["a sell (the curve debited with no instruction to see)", "pumpfun_sell_0.json", 3],
    ["a buy (the curve credited by a System transfer)", "pumpfun_buy_0.json", 2],
  ])("%s: measured from the curve's lamport delta, the same row", (_, name, top) => {
    const { f, before } = fixture(name, (d) => d.swaps.length > 0);
    expect(before.swaps).toHaveLength(1);
    const d = decoder().decodeTransaction(eventDropped(f.tx, top), f)!;
    expect(d.swaps).toEqual(before.swaps);
    expect(d.pools).toEqual(before.pools);
    // the curve's reserve is its lamports after the transaction
    const curve = accountKeys(f.tx).indexOf(before.pools[0]!.vaultB);
    expect(before.pools[0]!.reserveB).toBe(BigInt(f.tx.meta!.postBalances[curve]!));
  });

  test("four buys on one curve, none with its event: each measured from its own System transfer to the curve", () => {
    const { f, before } = fixture("pumpfun_buy_bundle.json", (d) => d.swaps.length === 4);
    const tops = before.swaps.map((s) => Number(s.instructionPath));
    let tx = f.tx;
    for (const top of tops) tx = eventDropped(tx, top);
    const d = decoder().decodeTransaction(tx, f)!;
    expect(d.swaps).toEqual(before.swaps);
  });
});

describe("measure: a hit that cannot be measured", () => {
  test("a swap whose vault has no token balance to name its mint is a warning on its instruction, not a row", () => {
    const { f, before } = fixture(
      ".json",
      (d) => d.swaps.length === 1 && d.swaps[0]!.dex === "raydium-amm-v4" && d.warnings.length === 0,
    );
    const [swap] = before.swaps;
    const pool = before.pools[0]!;
    const vault = accountKeys(f.tx).indexOf(pool.vaultA);
    const copy = structuredClone(f.tx);
    copy.meta!.preTokenBalances = copy.meta!.preTokenBalances!.filter((b) => b.accountIndex !== vault);
    copy.meta!.postTokenBalances = copy.meta!.postTokenBalances!.filter((b) => b.accountIndex !== vault);
    const d = decoder().decodeTransaction(copy, f)!;
    expect([d.swaps, d.pools, d.liquidityEvents]).toEqual([[], [], []]);
    expect(d.warnings).toEqual([
      expect.objectContaining({
        kind: "decode_error",
        programId: "675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8",
        instructionPath: swap!.instructionPath,
      }),
    ]);
    expect(d.transfers).toEqual(before.transfers.map((t) => expect.objectContaining({ amount: t.amount })));
  });
});
