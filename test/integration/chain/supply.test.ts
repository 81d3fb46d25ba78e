/**
 * A mint's supply as served moves with the blocks produced: synthetic load replays recorded mints and burns, and
 * a read at a slot carries exactly the mints and burns of the blocks up to that slot, as a node's bank does.
 * The oracle is independent of the chain's own accounting: each block's token balance deltas per mint.
 */
import { PublicKey, type Connection, type VersionedBlockResponse } from "@solana/web3.js";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createChain, type Chain } from "../../../devchain/index.js";
import { closeConnections, connect } from "./connections.js";

const TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
// Wrapped SOL moves by lamport transfers and SyncNative, which mint nothing: its balances are no oracle of supply.
const NATIVE_MINT = "So11111111111111111111111111111111111111112";

let chain: Chain;
let conn: Connection;
beforeAll(async () => {
  chain = await createChain({ port: 0, slotMs: 40, finalityLag: 6, syntheticTps: 1500 });
  conn = connect(chain.rpcUrl, "confirmed");
});
afterAll(async () => {
  closeConnections();
  await chain?.close();
});

/** Net token balance change per SPL Token mint of the successful transactions of the blocks in (from, to]. */
const blocks = new Map<number, VersionedBlockResponse | null>();
async function balanceDeltas(from: number, to: number): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  for (const slot of await conn.getBlocks(from + 1, to, "confirmed")) {
    if (!blocks.has(slot))
      blocks.set(slot, await conn.getBlock(slot, { commitment: "confirmed", maxSupportedTransactionVersion: 0 }));
    for (const tx of blocks.get(slot)?.transactions ?? []) {
      if (!tx.meta || tx.meta.err) continue;
      for (const [sign, list] of [
        [-1n, tx.meta.preTokenBalances],
        [1n, tx.meta.postTokenBalances],
      ] as const)
        for (const b of list ?? [])
          if (b.programId === TOKEN_PROGRAM && b.mint !== NATIVE_MINT)
            out.set(b.mint, (out.get(b.mint) ?? 0n) + sign * BigInt(b.uiTokenAmount.amount));
    }
  }
  return out;
}

test("a mint read at two slots differs by the mints and burns of the blocks between them", async () => {
  // Mints that recorded transactions mint or burn: the ones whose supply must move under replayed load.
  const start = chain.slot("confirmed");
  let moving: string[] = [];
  for (let round = 1; round <= 12 && moving.length === 0; round++) {
    await chain.waitForSlot(start + 12 * round, "confirmed");
    const seen = await balanceDeltas(start, chain.slot("confirmed"));
    moving = [...seen].filter(([, d]) => d !== 0n).map(([m]) => m);
  }
  expect(moving.length).toBeGreaterThan(0);

  const read = async () => {
    const out = new Map<string, { slot: number; amount: bigint }>();
    for (const mint of moving) {
      const r = await conn.getTokenSupply(new PublicKey(mint), "confirmed");
      out.set(mint, { slot: r.context.slot, amount: BigInt(r.value.amount) });
    }
    return out;
  };
  const first = await read();
  // Replayed mints and burns are a few templates in thousands: read again until the blocks between hold one.
  let moved = 0;
  for (let round = 0; round < 12 && moved === 0; round++) {
    await chain.waitForSlot(chain.slot("confirmed") + 15, "confirmed");
    const second = await read();
    for (const mint of moving) {
      const a = first.get(mint)!;
      const b = second.get(mint)!;
      const expected = (await balanceDeltas(a.slot, b.slot)).get(mint) ?? 0n;
      if (expected !== 0n) moved++;
      expect({ mint, change: b.amount - a.amount }).toEqual({ mint, change: expected });
    }
  }
  expect(moved).toBeGreaterThan(0);
}, 90_000);
