/**
 * getProgramAccounts and getTokenAccountsByOwner over the token accounts the local chain knows, driven through a
 * web3.js Connection; the oracle is the chain's own history, read back with getBlock and replayed here.
 */
import bs58 from "bs58";
import { TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID, unpackAccount } from "@solana/spl-token";
import { Connection, PublicKey, SolanaJSONRPCError } from "@solana/web3.js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createChain, type Chain } from "../../../devchain/index.js";

type State = { mint: string; owner: string; program: string; amount: bigint };
let chain: Chain;
let conn: Connection;
/** Every token account the served history leaves open, as of the finalized slot. */
const expected = new Map<string, State>();
let slot = 0;

beforeAll(async () => {
  chain = await createChain({ port: 0, once: true });
  conn = new Connection(chain.rpcUrl, { commitment: "finalized" });
  slot = await conn.getSlot("finalized");
  for (const s of chain.history.slots) {
    const b = await conn.getBlock(s, { maxSupportedTransactionVersion: 0, rewards: false });
    for (const t of b?.transactions ?? []) {
      // static keys, then the loaded ones (some converted recordings lost their lookups, not their loaded keys)
      const list = [
        ...t.transaction.message.staticAccountKeys,
        ...(t.meta?.loadedAddresses?.writable ?? []),
        ...(t.meta?.loadedAddresses?.readonly ?? []),
      ];
      const keys = { get: (i: number) => list[i] };
      const post = new Set<number>();
      for (const tb of t.meta?.postTokenBalances ?? []) {
        const address = keys.get(tb.accountIndex)!.toBase58();
        post.add(tb.accountIndex);
        if (!tb.owner) expected.delete(address);
        else
          expected.set(address, {
            mint: tb.mint,
            owner: tb.owner,
            program: tb.programId ?? TOKEN_PROGRAM_ID.toBase58(),
            amount: BigInt(tb.uiTokenAmount.amount),
          });
      }
      for (const tb of t.meta?.preTokenBalances ?? [])
        if (!post.has(tb.accountIndex)) expected.delete(keys.get(tb.accountIndex)!.toBase58());
    }
  }
}, 120_000);
afterAll(() => chain?.close());

/** The mint of `program` with the most accounts in the history. */
function busiestMint(program: string): string {
  const n = new Map<string, number>();
  for (const s of expected.values()) if (s.program === program) n.set(s.mint, (n.get(s.mint) ?? 0) + 1);
  return [...n.entries()].sort((a, b) => b[1] - a[1])[0]![0];
}

const expectedOf = (f: (s: State) => boolean) =>
  [...expected.entries()]
    .filter(([, s]) => f(s))
    .map(([a, s]) => ({ address: a, ...s }))
    .sort((a, b) => (a.address < b.address ? -1 : 1));

describe("getProgramAccounts", () => {
  test("a mint's token accounts (memcmp at 0, dataSize 165, withContext) are the history's, in the SPL layout", async () => {
    const mint = busiestMint(TOKEN_PROGRAM_ID.toBase58());
    const want = expectedOf((s) => s.mint === mint);
    expect(want.length).toBeGreaterThan(3);
    const r = await conn.getProgramAccounts(TOKEN_PROGRAM_ID, {
      withContext: true,
      filters: [{ dataSize: 165 }, { memcmp: { offset: 0, bytes: mint } }],
    });
    expect(r.context.slot).toBe(slot);
    const got = r.value
      .map(({ pubkey, account }) => {
        const a = unpackAccount(pubkey, account, TOKEN_PROGRAM_ID);
        expect(account.data.length).toBe(165);
        expect(a.isInitialized).toBe(true);
        return { address: pubkey.toBase58(), mint: a.mint.toBase58(), owner: a.owner.toBase58(), amount: a.amount };
      })
      .sort((a, b) => (a.address < b.address ? -1 : 1));
    expect(got).toEqual(want.map(({ address, mint, owner, amount }) => ({ address, mint, owner, amount })));
  });

  test("memcmp on the owner (offset 32, base64) and dataSlice", async () => {
    const mint = busiestMint(TOKEN_PROGRAM_ID.toBase58());
    const owner = expectedOf((s) => s.mint === mint)[0]!.owner;
    const want = expectedOf((s) => s.owner === owner && s.program === TOKEN_PROGRAM_ID.toBase58());
    const r = await conn.getProgramAccounts(TOKEN_PROGRAM_ID, {
      filters: [
        { memcmp: { offset: 32, bytes: Buffer.from(bs58.decode(owner)).toString("base64"), encoding: "base64" } },
      ],
      dataSlice: { offset: 64, length: 8 },
    });
    expect(r.map((x) => x.pubkey.toBase58()).sort()).toEqual(want.map((w) => w.address));
    for (const { pubkey, account } of r) {
      expect(account.data.length).toBe(8);
      expect(account.data.readBigUInt64LE(0)).toBe(expected.get(pubkey.toBase58())!.amount);
    }
  });

  test("Token-2022 accounts are served under their program, none under the other", async () => {
    const t22 = TOKEN_2022_PROGRAM_ID.toBase58();
    const mint = busiestMint(t22);
    const want = expectedOf((s) => s.mint === mint);
    const r = await conn.getProgramAccounts(TOKEN_2022_PROGRAM_ID, {
      filters: [{ memcmp: { offset: 0, bytes: mint } }],
    });
    expect(r.map((x) => x.pubkey.toBase58()).sort()).toEqual(want.map((w) => w.address));
    for (const { pubkey, account } of r) {
      expect(account.owner.toBase58()).toBe(t22);
      expect(unpackAccount(pubkey, account, TOKEN_2022_PROGRAM_ID).amount).toBe(
        expected.get(pubkey.toBase58())!.amount,
      );
    }
    const other = await conn.getProgramAccounts(TOKEN_PROGRAM_ID, {
      filters: [{ memcmp: { offset: 0, bytes: mint } }],
    });
    expect(other).toEqual([]);
  });

  test("a filter that matches nothing, a memcmp past the data, and too many filters", async () => {
    const none = await conn.getProgramAccounts(TOKEN_PROGRAM_ID, {
      filters: [{ dataSize: 165 }, { memcmp: { offset: 0, bytes: PublicKey.default.toBase58() } }],
    });
    expect(none).toEqual([]);
    const past = await conn.getProgramAccounts(TOKEN_PROGRAM_ID, {
      filters: [{ memcmp: { offset: 160, bytes: bs58.encode(Buffer.alloc(8)) } }, { dataSize: 165 }],
    });
    expect(past).toEqual([]);
    const five = Array.from({ length: 5 }, () => ({ dataSize: 165 }));
    await expect(conn.getProgramAccounts(TOKEN_PROGRAM_ID, { filters: five })).rejects.toThrow(SolanaJSONRPCError);
    await expect(conn.getProgramAccounts(TOKEN_PROGRAM_ID, { filters: five })).rejects.toThrow(/max 4/);
  });

  test("mints are served under their program beside the token accounts", async () => {
    const mint = busiestMint(TOKEN_PROGRAM_ID.toBase58());
    const r = await conn.getProgramAccounts(TOKEN_PROGRAM_ID, { filters: [{ dataSize: 82 }] });
    expect(r.map((x) => x.pubkey.toBase58())).toContain(mint);
  });
});

describe("getTokenAccountsByOwner", () => {
  test("by mint and by program, with the context slot", async () => {
    const mint = busiestMint(TOKEN_PROGRAM_ID.toBase58());
    const owner = expectedOf((s) => s.mint === mint)[0]!.owner;
    const byMint = await conn.getTokenAccountsByOwner(new PublicKey(owner), { mint: new PublicKey(mint) });
    expect(byMint.context.slot).toBe(slot);
    expect(byMint.value.map((x) => x.pubkey.toBase58()).sort()).toEqual(
      expectedOf((s) => s.owner === owner && s.mint === mint).map((w) => w.address),
    );
    const byProgram = await conn.getTokenAccountsByOwner(new PublicKey(owner), { programId: TOKEN_PROGRAM_ID });
    expect(byProgram.value.map((x) => x.pubkey.toBase58()).sort()).toEqual(
      expectedOf((s) => s.owner === owner && s.program === TOKEN_PROGRAM_ID.toBase58()).map((w) => w.address),
    );
    await expect(
      conn.getTokenAccountsByOwner(new PublicKey(owner), { programId: new PublicKey(owner) }),
    ).rejects.toThrow(/unrecognized Token program id/);
  });
});

describe("getProgramAccounts over LiteSVM activity, as of the slot of each commitment", () => {
  test("finalized and confirmed answer as of their own slots; Token-2022 accounts keep their extensions", async () => {
    const live = await createChain({
      port: 0,
      fixtures: [],
      autoProduce: false,
      finalityLag: 3,
      svmActivity: true,
    });
    try {
      const c = new Connection(live.rpcUrl, { commitment: "confirmed" });
      const deadline = Date.now() + 90_000;
      // the mints, their accounts and most of a round, so the commitments' slots differ in balances
      while (live.stats().svm_executed! - live.stats().svm_buffered! < 3 + 16) {
        if (Date.now() > deadline) throw new Error("LiteSVM activity did not arrive within 90 s");
        if (live.stats().svm_buffered! < 4) await new Promise((r) => setTimeout(r, 20));
        else live.tick();
      }
      // three more slots, each carrying LiteSVM transactions: the confirmed slot is above the finalized one by some
      for (let i = 0; i < 3; i++) {
        while (live.stats().svm_buffered! < 4) {
          if (Date.now() > deadline) throw new Error("LiteSVM activity did not arrive within 90 s");
          await new Promise((r) => setTimeout(r, 20));
        }
        live.tick();
      }
      const byProgram = async (commitment: "finalized" | "confirmed") => {
        const out = new Map<string, { amount: bigint; length: number }>();
        let slot = 0;
        for (const program of [TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID]) {
          const r = await c.getProgramAccounts(program, { commitment, withContext: true });
          slot = r.context.slot;
          for (const { pubkey, account } of r.value) {
            if (account.data.length === 82 || account.data[165] === 1) continue; // mints
            out.set(pubkey.toBase58(), {
              amount: unpackAccount(pubkey, account, program).amount,
              length: account.data.length,
            });
          }
        }
        return { slot, accounts: out };
      };
      /** The open token accounts after every block up to `slot`, from getBlock. */
      const replay = async (slot: number) => {
        const out = new Map<string, bigint>();
        for (const s of await c.getBlocks(live.history.slots[0] ?? 0, slot)) {
          const b = await c.getBlock(s, { maxSupportedTransactionVersion: 0, rewards: false });
          for (const t of b?.transactions ?? []) {
            const keys = t.transaction.message.staticAccountKeys.map((k) => k.toBase58());
            const post = new Set<number>();
            for (const tb of t.meta?.postTokenBalances ?? []) {
              post.add(tb.accountIndex);
              out.set(keys[tb.accountIndex]!, BigInt(tb.uiTokenAmount.amount));
            }
            for (const tb of t.meta?.preTokenBalances ?? [])
              if (!post.has(tb.accountIndex)) out.delete(keys[tb.accountIndex]!);
          }
        }
        return out;
      };
      const fin = await byProgram("finalized");
      const conf = await byProgram("confirmed");
      expect(conf.slot).toBeGreaterThan(fin.slot);
      const amounts = (m: Map<string, { amount: bigint }>) => new Map([...m].map(([k, v]) => [k, v.amount]));
      expect(amounts(fin.accounts)).toEqual(await replay(fin.slot));
      expect(amounts(conf.accounts)).toEqual(await replay(conf.slot));
      expect(amounts(conf.accounts)).not.toEqual(amounts(fin.accounts));
      // the transfer-fee mint's accounts carry TransferFeeAmount: LiteSVM's bytes, longer than the SPL layout
      expect([...conf.accounts.values()].some((a) => a.length > 165)).toBe(true);
    } finally {
      await live.close();
    }
  }, 180_000);
});
