/**
 * Trades through the store and the API: the two whole mainnet blocks (every route and swap a block holds) and the
 * recorded Jupiter routes, read back by transaction, by trader and by mint, paged without a skip or a repeat, and gone
 * with their slot when it is rolled back.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type DecodedBlock, createDecoder } from "../../../indexer/decode/index.js";
import { PRESET_NAMES } from "../../../core/presets.js";
import { createStore } from "../../../indexer/store/index.js";
import type { NewTrade } from "../../../schema/index.js";
import { allFixtureTxs } from "../../unit/decode/fixture-txs.js";
import { type ApiHarness, setupApi } from "./harness.js";

type TradeJson = {
  signature: string;
  trader: string;
  soldMint: string;
  soldAmount: string;
  boughtMint: string;
  boughtAmount: string;
  pools: string[];
  slot: number;
};
const FIELDS = "signature trader soldMint soldAmount boughtMint boughtAmount pools slot";
const asJson = (t: NewTrade): TradeJson => ({
  signature: t.signature,
  trader: t.trader,
  soldMint: t.soldMint,
  soldAmount: t.soldAmount.toString(),
  boughtMint: t.boughtMint,
  boughtAmount: t.boughtAmount.toString(),
  pools: t.pools,
  slot: t.slot,
});
const key = (t: { signature: string; trader: string }) => `${t.signature} ${t.trader}`;

describe("api: trades", () => {
  let h: ApiHarness;
  let routes: DecodedBlock;
  let expected: NewTrade[];

  beforeAll(async () => {
    h = await setupApi();
    // the recorded Jupiter routes (single transactions), stored as one block far above the mainnet blocks
    const decoder = createDecoder({ programs: PRESET_NAMES });
    const seen = new Set<string>();
    const txs = allFixtureTxs().filter((f) => {
      const sig = f.tx.transaction.signatures[0]!;
      if (f.program !== "jupiter" || f.folder !== "transactions" || seen.has(sig)) return false;
      seen.add(sig);
      return true;
    });
    routes = {
      slot: 400_000_000,
      parentSlot: 399_999_999,
      blockhash: "11111111111111111111111111111111",
      blockTime: 1_750_000_000,
      txCount: txs.length,
      transactions: txs.flatMap(
        (f, i) => decoder.decodeTransaction(f.tx, { slot: 400_000_000, blockTime: 1_750_000_000, txIndex: i }) ?? [],
      ),
    };
    await createStore({ db: h.writer }).writeBlocks([routes], { commitment: "confirmed" });
    expected = [...h.blocks, routes].flatMap((b) => b.transactions.flatMap((t) => t.trades));
  });
  afterAll(() => h.close());

  test("every decoded trade is stored once and served as decoded, by transaction", async () => {
    expect(expected.length).toBeGreaterThan(100);
    expect(routes.transactions.flatMap((t) => t.trades).length).toBeGreaterThanOrEqual(4);
    const stored = await h.writer.$client.query<{ n: number }>("select count(*)::int as n from trades");
    expect(stored.rows[0]!.n).toBe(new Set(expected.map(key)).size);
    const sigs = [...new Set(expected.map((t) => t.signature))];
    for (let k = 0; k < sigs.length; k += 8) {
      const chunk = sigs.slice(k, k + 8);
      const r = await h.gql(
        `{ ${chunk.map((sig, i) => `t${i}: transaction(signature: "${sig}") { trades { ${FIELDS} } }`).join(" ")} }`,
      );
      expect(r.body.errors).toBeUndefined();
      chunk.forEach((sig, i) => {
        const want = expected
          .filter((t) => t.signature === sig)
          .map(asJson)
          .sort((a, b) => (a.trader < b.trader ? -1 : 1));
        expect(r.body.data[`t${i}`].trades).toEqual(want);
      });
    }
  });

  test("trades(where: { mint }) pages through both sides of the mint, newest first, without a skip or a repeat", async () => {
    const counts = new Map<string, number>();
    for (const t of expected) for (const m of [t.soldMint, t.boughtMint]) counts.set(m, (counts.get(m) ?? 0) + 1);
    const [mint] = [...counts].sort((a, b) => b[1] - a[1])[0]!;
    const want = expected.filter((t) => t.soldMint === mint || t.boughtMint === mint);
    expect(want.length).toBeGreaterThan(20);
    const got: TradeJson[] = [];
    let after: string | null = null;
    for (;;) {
      const r: { body: { errors?: unknown; data?: any } } = await h.gql(
        `query($m: String!, $a: String) { trades(first: 7, after: $a, where: { mint: $m }) { edges { node { ${FIELDS} } } pageInfo { hasNextPage endCursor } } }`,
        { m: mint, a: after },
      );
      expect(r.body.errors).toBeUndefined();
      got.push(...r.body.data.trades.edges.map((e: { node: TradeJson }) => e.node));
      if (!r.body.data.trades.pageInfo.hasNextPage) break;
      after = r.body.data.trades.pageInfo.endCursor;
    }
    expect(got.map(key).sort()).toEqual(want.map(key).sort());
    for (let i = 1; i < got.length; i++) expect(got[i - 1]!.slot >= got[i]!.slot).toBe(true);
  });

  test("trades(where: { trader }) and the Ui amounts with the tokens' decimals", async () => {
    const t = routes.transactions.flatMap((x) => x.trades)[0]!;
    const r = await h.gql(
      `query($t: String!) { trades(first: 50, where: { trader: $t }) { edges { node { ${FIELDS} soldAmountUi boughtToken { mint } } } } }`,
      { t: t.trader },
    );
    expect(r.body.errors).toBeUndefined();
    const nodes = r.body.data.trades.edges.map((e: { node: TradeJson }) => e.node);
    expect(nodes.map(key)).toEqual(expected.filter((x) => x.trader === t.trader).map(key));
    expect(nodes.find((n: TradeJson) => n.signature === t.signature).boughtToken.mint).toBe(t.boughtMint);
  });

  test("a page of trades is priced and refused past the page limit before any SQL", async () => {
    const r = await h.gql("{ trades(first: 100000) { edges { node { signature } } } }");
    expect(r.body.errors?.[0]?.extensions?.code).toBeDefined();
    expect(r.body.data?.trades ?? null).toBeNull();
  });

  test("a rolled-back slot takes its trades with it", async () => {
    const store = createStore({ db: h.writer });
    await store.rollbackSlots([routes.slot]);
    const left = await h.writer.$client.query<{ n: number }>("select count(*)::int as n from trades where slot = $1", [
      routes.slot,
    ]);
    expect(left.rows[0]!.n).toBe(0);
    const r = await h.gql(
      `{ trades(first: 5, where: { slot: { gte: ${routes.slot} } }) { edges { node { signature } } } }`,
    );
    expect(r.body.data.trades.edges).toEqual([]);
  });
});
