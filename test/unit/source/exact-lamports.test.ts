/**
 * Lamport balances above 2^53 read exactly, from the answer's text to the decoded rows: a real mainnet block whose
 * every preBalances and postBalances entry is raised, in the raw JSON text, by 2^60 + 1 (where doubles are 256
 * apart). Balance changes stay the same, so every swap, trade and liquidity row must equal the unedited block's, and
 * every wallet's lamports and SOL vault reserve must be its real balance plus the offset, to the lamport.
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import type { RawBlock } from "../../../core/solana-types.js";
import { PRESET_NAMES } from "../../../core/presets.js";
import { createDecoder } from "../../../indexer/decode/index.js";
import { parseBlockAnswers } from "../../../indexer/source/block-json.js";
import { blockFromResult } from "../../../indexer/source/blocks.js";
import { fixturePath } from "../../setup/fixtures.js";

const OFFSET = 2n ** 60n + 1n;
const SLOT = 332254855;
const text = readFileSync(
  fixturePath("blocks", "getBlock-json-mainnet-converted", `mainnet_block_${SLOT}.converted.json`),
  "utf8",
);

/**
 * The answer's text with the balances of every account that exists before and after each transaction (non-zero on
 * both sides) raised by OFFSET, digit for digit; created and closed accounts keep their zero, so every change and
 * every "closed" test reads the same.
 */
function raised(body: string): { body: string; arrays: number } {
  let arrays = 0;
  const list = (l: string) => l.split(",").map((x) => BigInt(x.trim()));
  const out = body.replace(
    /"postBalances":\[([\d,\s]*)\]([\s\S]*?)"preBalances":\[([\d,\s]*)\]/g,
    (_, postText: string, between: string, preText: string) => {
      arrays += 2;
      const [post, pre] = [list(postText), list(preText)];
      const up = (v: bigint, i: number) => (post[i] !== 0n && pre[i] !== 0n ? v + OFFSET : v).toString();
      return `"postBalances":[${post.map(up).join(",")}]${between}"preBalances":[${pre.map(up).join(",")}]`;
    },
  );
  return { body: out, arrays };
}

/** Rows with their bigints as decimal text, for a comparison that cannot round. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_, x) => (typeof x === "bigint" ? `${x}n` : x)));

describe("lamports above 2^53", () => {
  const decoder = createDecoder({ programs: PRESET_NAMES });
  const original = JSON.parse(text) as { result: RawBlock };
  const { body, arrays } = raised(text);
  const parsed = parseBlockAnswers(Buffer.from(body, "latin1")) as { result: unknown };
  const block = blockFromResult(SLOT, parsed.result);

  test("the edit touched every transaction's balances, and the block is still a valid answer", () => {
    expect(arrays).toBe(2 * original.result.transactions.length);
    for (let i = 0; i < block.transactions.length; i++) expect(() => block.transactions.get(i)).not.toThrow();
  });

  test("every wallet's lamports are its balance plus the offset, exactly; every other row is unchanged", () => {
    const want = decoder.decodeBlock(original.result, SLOT);
    const got = decoder.decodeBlock(block, SLOT);
    const wallets = (d: typeof want) => d.transactions.flatMap((t) => t.wallets);
    expect(wallets(want).length).toBeGreaterThan(50);
    // Raised when the signer held lamports before and after (a fee payer always does; a signer created or closed by
    // its transaction keeps its zero).
    const wasRaised = (w: { address: string; txIndex: number }) => {
      const tx = original.result.transactions[w.txIndex]!;
      const keys = [
        ...tx.transaction.message.accountKeys,
        ...(tx.meta!.loadedAddresses?.writable ?? []),
        ...(tx.meta!.loadedAddresses?.readonly ?? []),
      ];
      const i = keys.indexOf(w.address);
      return tx.meta!.preBalances[i] !== 0 && tx.meta!.postBalances[i] !== 0;
    };
    expect(wallets(want).filter(wasRaised).length).toBeGreaterThan(50);
    expect(wallets(got).map((w) => w.lamports)).toEqual(
      wallets(want).map((w) => (wasRaised(w) ? w.lamports + OFFSET : w.lamports)),
    );
    expect(wallets(got).some((w) => w.lamports > 2n ** 53n)).toBe(true);
    // SOL vault deltas (pumpfun's bonding curve holds its SOL as lamports) and trades' SOL sides read balance changes.
    const swaps = (d: typeof want) => d.transactions.flatMap((t) => t.swaps);
    const trades = (d: typeof want) => d.transactions.flatMap((t) => t.trades);
    expect(swaps(want).some((s) => s.dex === "pumpfun")).toBe(true);
    expect(trades(want).length).toBeGreaterThan(0);
    // A SOL vault's reserve is its balance: the raised one exactly, to the lamport.
    const reserves = (d: typeof want) => d.transactions.flatMap((t) => t.pools.map((p) => [p.reserveA, p.reserveB]));
    const raisedBy = reserves(got).map(([a, b], i) => [a! - reserves(want)[i]![0]!, b! - reserves(want)[i]![1]!]);
    expect(raisedBy.flat().every((x) => x === 0n || x === OFFSET)).toBe(true);
    expect(raisedBy.flat().filter((x) => x === OFFSET).length).toBeGreaterThan(0);
    const rows = (d: typeof want) =>
      plain(
        d.transactions.map((t) => ({
          ...t,
          wallets: [],
          pools: t.pools.map((p) => ({ ...p, reserveA: null, reserveB: null })),
        })),
      );
    expect(rows(got)).toEqual(rows(want));
  });
});
