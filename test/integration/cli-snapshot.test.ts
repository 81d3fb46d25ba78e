/**
 * `slotline snapshot` against the local chain: what it refuses (a name that is no mint nor stored symbol, an account
 * that is not a token mint) and a recorded mint seeded with its supply, by symbol as well as by address.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { type Chain, createChain } from "../../devchain/index.js";
import { runCli } from "../setup/cli.js";
import { FIXTURES_DIR } from "../setup/fixtures.js";
import { query } from "../setup/ingest-env.js";
import { createTestDatabase } from "../setup/services.js";

const USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";

describe("slotline snapshot", () => {
  let chain: Chain;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string>;
  beforeAll(async () => {
    chain = await createChain({
      port: 0,
      once: true,
      fixtures: [path.join(FIXTURES_DIR, "blocks/getBlock-json-mainnet-converted")],
    });
    db = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    env = { DATABASE_URL: db.url, SOLANA_RPC_URL: chain.rpcUrl, REDIS_URL: inject("redisUrl") };
  });
  afterAll(async () => {
    await db?.drop();
    await chain?.close();
  });

  test("a name that is neither a mint nor a stored symbol exits 2; an account that is no mint exits 1", async () => {
    const name = await runCli(["snapshot", "--mint", "NOSUCHTOKEN"], env);
    expect(name.code).toBe(2);
    expect(name.stderr).toMatch(/--mint NOSUCHTOKEN: not a mint address, nor the symbol of a stored token/);
    const missing = await runCli(["snapshot", "--mint", "11111111111111111111111111111112"], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no such account/);
  }, 120_000);

  test("a recorded mint: its accounts, holders, holder count and supply at the chain's slot", async () => {
    const r = await runCli(["snapshot", "--mint", USDC], env);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const slot = chain.slot("finalized");
    expect(r.stdout).toMatch(new RegExp(`snapshot ${USDC} \\(spl-token\\) at slot ${slot}: (\\d+) accounts read`));
    const [acc] = await query<{ n: number; slots: number }>(
      db.url,
      "select count(*)::int as n, count(distinct (slot, tx_index))::int as slots from token_accounts where mint = $1",
      [USDC],
    );
    expect(acc!.n).toBeGreaterThan(20);
    expect(acc!.slots).toBe(1);
    const [tok] = await query<{ holder_count: number; supply: string | null; supply_slot: string; decimals: number }>(
      db.url,
      "select holder_count, supply::text, supply_slot::text, decimals from tokens where mint = $1",
      [USDC],
    );
    const [counted] = await query<{ n: number }>(
      db.url,
      "select count(*)::int as n from (select owner from token_accounts where mint = $1 and not closed group by owner having sum(amount) > 0) x",
      [USDC],
    );
    expect(tok).toMatchObject({ holder_count: counted!.n, decimals: 6, supply_slot: String(slot) });
    expect(tok!.supply).not.toBeNull();

    // by symbol, once the token has one: the same rows again (nothing to change)
    await query(db.url, "update tokens set symbol = 'USDC' where mint = $1", [USDC]);
    const again = await runCli(["snapshot", "--mint", "usdc"], env);
    expect(again.code, again.stderr.slice(-2000)).toBe(0);
    const [acc2] = await query<{ n: number }>(db.url, "select count(*)::int as n from token_accounts where mint = $1", [
      USDC,
    ]);
    expect(acc2!.n).toBe(acc!.n);
  }, 120_000);
});
