/**
 * USD fields through the API over the two whole mainnet blocks, priced by the pricing stage: Swap.valueUsd and
 * Trade.valueUsd as stored, Token.priceUsd (per whole token; 1 for a stablecoin), Pool.tvlUsd, as decimal strings,
 * and a list of tokens or pools reading them in one statement.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseConfig } from "../../../core/config.js";
import { USDC_MINT, WSOL_MINT } from "../../../core/presets.js";
import { createPricer } from "../../../indexer/pricing/index.js";
import { type ApiHarness, setupApi } from "./harness.js";

const DECIMAL = /^-?\d+(\.\d+)?$/;

describe("api: USD prices", () => {
  let h: ApiHarness;

  beforeAll(async () => {
    h = await setupApi();
    await createPricer({ db: h.writer, config: parseConfig({}) }).catchUp({ upTo: h.blocks.at(-1)!.slot });
  });
  afterAll(() => h.close());

  test("Swap.valueUsd and Trade.valueUsd are the stored values, as decimal strings", async () => {
    const stored = await h.sql.query<{ signature: string; path: string; v: string | null }>(
      "select signature, instruction_path as path, value_usd::text as v from swaps where value_usd is not null order by value_usd desc limit 5",
    );
    expect(stored.rows.length).toBe(5);
    for (const s of stored.rows) {
      const r = await h.gql(
        `{ transaction(signature: "${s.signature}") { swaps { instructionPath valueUsd } trades { trader valueUsd } } }`,
      );
      expect(r.body.errors).toBeUndefined();
      const swap = r.body.data.transaction.swaps.find((x: { instructionPath: string }) => x.instructionPath === s.path);
      expect(swap.valueUsd).toBe(s.v);
      expect(swap.valueUsd).toMatch(DECIMAL);
      const trades = await h.sql.query<{ trader: string; v: string | null }>(
        "select trader, value_usd::text as v from trades where signature = $1 order by trader",
        [s.signature],
      );
      const served = [...r.body.data.transaction.trades].sort((a: { trader: string }, b: { trader: string }) =>
        a.trader < b.trader ? -1 : 1,
      );
      expect(served).toEqual(trades.rows.map((t) => ({ trader: t.trader, valueUsd: t.v })));
    }
  });

  test("Token.priceUsd: a stablecoin is 1, SOL its latest unit price times 10^9; Pool.tvlUsd its latest row", async () => {
    const sol = await h.sql.query<{ p: string }>(
      "select trim_scale(unit_price_usd * 1e9)::text as p from token_prices where mint = $1 order by slot desc limit 1",
      [WSOL_MINT],
    );
    const tvl = await h.sql.query<{ pool: string; tvl: string }>(
      "select distinct on (pool) pool, tvl_usd::text as tvl from pool_tvl where tvl_usd is not null order by pool, slot desc limit 1",
    );
    const r = await h.gql(
      `{ sol: token(mint: "${WSOL_MINT}") { priceUsd } usdc: token(mint: "${USDC_MINT}") { priceUsd }
         pool(address: "${tvl.rows[0]!.pool}") { tvlUsd } }`,
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.sol.priceUsd).toBe(sol.rows[0]!.p);
    expect(Number(r.body.data.sol.priceUsd)).toBeGreaterThan(95);
    expect(r.body.data.usdc.priceUsd).toBe("1");
    // market cap needs the exact supply, which the enricher reads (no recorded answer here): null without it
    const noSupply = await h.sql.query<{ mint: string }>(
      "select mint from tokens where supply is null and mint in (select mint from token_prices) order by mint limit 3",
    );
    expect(noSupply.rows.length).toBeGreaterThan(0);
    for (const c of noSupply.rows) {
      const m = await h.gql(`{ token(mint: "${c.mint}") { priceUsd marketCapUsd } }`);
      expect(m.body.data.token.priceUsd).not.toBeNull();
      expect(m.body.data.token.marketCapUsd).toBeNull();
    }
    expect(r.body.data.pool.tvlUsd).toBe(tvl.rows[0]!.tvl);
  });

  test("a list of tokens and their pools reads prices and TVL in one statement each", async () => {
    const q = `{ tokens(first: 40) { edges { node { mint priceUsd pools(first: 3) { edges { node { address tvlUsd } } } } } } }`;
    h.statements.reset();
    const r = await h.gql(q);
    expect(r.body.errors).toBeUndefined();
    const nodes = r.body.data.tokens.edges.map((e: { node: unknown }) => e.node) as {
      priceUsd: string | null;
      pools: { edges: { node: { tvlUsd: string | null } }[] };
    }[];
    expect(nodes.filter((n) => n.priceUsd != null).length).toBeGreaterThan(1);
    for (const n of nodes) if (n.priceUsd != null) expect(n.priceUsd).toMatch(DECIMAL);
    const prices = h.statements.texts.filter((t) => t.includes("token_prices"));
    // priceUsd's statement, whatever the page size
    const tvls = h.statements.texts.filter((t) => t.includes("pool_tvl"));
    expect(prices.length).toBe(1);
    expect(tvls.length).toBe(1);
  });
});
