/**
 * The balances oracle over the local chain's whole history (recorded mainnet and localnet blocks, every program's
 * recorded transactions, and LiteSVM activity in new slots), backfilled through the real CLI: every token_accounts
 * row equals the postTokenBalances entry of the last stored transaction touching its account (read back with
 * getTransaction), every holder count equals SQL's count from token_accounts, and every LiteSVM mint's supply equals
 * getTokenSupply at the resume point.
 */
import { afterAll, describe, expect, inject, test } from "vitest";
import { type Chain, createChain } from "../../../devchain/index.js";
import { SVM_MINTS } from "../../../devchain/svm-script.js";
import { holderMismatches } from "../../setup/balances-oracle.js";
import { runCli } from "../../setup/cli.js";
import { FIXTURES_DIR } from "../../setup/fixtures.js";
import { ingestEnv, query } from "../../setup/ingest-env.js";
import { createTestDatabase, uniquePrefix } from "../../setup/services.js";

/** LiteSVM steps to serve: the mint-creating ones and two rounds of the script. */
const STEPS = 3 + 2 * 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type RawTx = {
  transaction: { message: { accountKeys: string[] } };
  meta: {
    loadedAddresses?: { writable: string[]; readonly: string[] };
    preTokenBalances?: { accountIndex: number; mint: string; owner?: string; uiTokenAmount: { amount: string } }[];
    postTokenBalances?: { accountIndex: number; mint: string; owner?: string; uiTokenAmount: { amount: string } }[];
  };
};

describe("balances after the local chain's whole history", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  });

  test.skipIf(process.env.SLOTLINE_LONG_TESTS !== "1")(
    "token accounts equal the chain's last postTokenBalances, holder counts SQL's count, LiteSVM supplies getTokenSupply",
    async () => {
      // finality lag 0: the accounts served (LiteSVM's) are those of the tip the backfill reaches
      const chain: Chain = await createChain({
        port: 0,
        fixtures: [FIXTURES_DIR],
        autoProduce: false,
        finalityLag: 0,
        svmActivity: true,
      });
      cleanups.push(() => chain.close());
      const deadline = Date.now() + 90_000;
      while (chain.stats().svm_executed! - chain.stats().svm_buffered! < STEPS) {
        if (Date.now() > deadline) throw new Error("LiteSVM activity did not arrive within 90 s");
        if (chain.stats().svm_buffered! < 4) await sleep(20);
        else chain.tick();
      }
      const rpc = async <T>(method: string, params: unknown[] = []): Promise<T> =>
        (
          (await (
            await fetch(chain.rpcUrl, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
            })
          ).json()) as { result: T }
        ).result;
      const first = await rpc<number>("getFirstAvailableBlock");
      const tip = await rpc<number>("getSlot", [{ commitment: "finalized" }]);
      const db = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
      cleanups.push(() => db.drop());
      const env = ingestEnv(chain, db.url, inject("redisUrl"), uniquePrefix());
      const r = await runCli(
        ["backfill", "--from-slot", String(first), "--to-slot", String(tip), "--inline"],
        env,
        300_000,
      );
      expect(r.code, r.stderr.slice(-3000)).toBe(0);

      // Each account against its last transaction, read back from the chain.
      const rows = await query<{
        address: string;
        mint: string;
        owner: string | null;
        amount: string;
        closed: boolean;
        signature: string;
      }>(
        db.url,
        `select a.address, a.mint, a.owner, a.amount::text as amount, a.closed, t.signature
         from token_accounts a join transactions t on t.slot = a.slot and t.tx_index = a.tx_index`,
      );
      const [all] = await query<{ n: number }>(db.url, "select count(*)::int as n from token_accounts");
      expect(rows.length).toBe(all!.n);
      expect(rows.length).toBeGreaterThan(1000);
      const sigs = [...new Set(rows.map((x) => x.signature))];
      const txs = new Map<string, RawTx>();
      for (let i = 0; i < sigs.length; i += 100) {
        const res = await fetch(chain.rpcUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(
            sigs.slice(i, i + 100).map((s, j) => ({
              jsonrpc: "2.0",
              id: j,
              method: "getTransaction",
              params: [s, { encoding: "json", maxSupportedTransactionVersion: 0, commitment: "confirmed" }],
            })),
          ),
        });
        const answers = (await res.json()) as { id: number; result: RawTx }[];
        for (const a of answers) txs.set(sigs[i + a.id]!, a.result);
      }
      const wrong: string[] = [];
      for (const row of rows) {
        const tx = txs.get(row.signature)!;
        const loaded = tx.meta.loadedAddresses;
        const keys = [...tx.transaction.message.accountKeys, ...(loaded?.writable ?? []), ...(loaded?.readonly ?? [])];
        const post = (tx.meta.postTokenBalances ?? []).find((b) => keys[b.accountIndex] === row.address);
        const pre = (tx.meta.preTokenBalances ?? []).find((b) => keys[b.accountIndex] === row.address);
        const want = post
          ? { mint: post.mint, owner: post.owner ?? null, amount: post.uiTokenAmount.amount, closed: false }
          : { mint: pre?.mint, owner: pre?.owner ?? null, amount: "0", closed: true };
        const got = { mint: row.mint, owner: row.owner, amount: row.amount, closed: row.closed };
        if (JSON.stringify(got) !== JSON.stringify(want))
          wrong.push(`${row.address} ${JSON.stringify(got)} <> ${JSON.stringify(want)}`);
      }
      expect(wrong.slice(0, 5)).toEqual([]);
      expect(await holderMismatches(db.url)).toEqual({ holders: [], counts: [] });

      for (const m of SVM_MINTS) {
        const mint = m.key.publicKey.toBase58();
        const chainSupply = await rpc<{ value: { amount: string } }>("getTokenSupply", [
          mint,
          { commitment: "finalized" },
        ]);
        const [stored] = await query<{ supply: string | null }>(
          db.url,
          "select supply::text from tokens where mint = $1",
          [mint],
        );
        expect({ mint, supply: stored?.supply }).toEqual({ mint, supply: chainSupply.value.amount });
      }
    },
    420_000,
  );
});
