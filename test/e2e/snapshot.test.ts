/**
 * A snapshot seeded at slot S, followed by indexing from S + 1, ends as a run over the whole history does: the
 * LiteSVM mints' open token accounts, holders, holder counts and supply are equal, the snapshot run holds no holder a
 * count over its own token_accounts would not, and a re-run of the snapshot changes nothing. Everything goes through
 * the real CLI (`slotline snapshot`, `slotline backfill --inline`) against the local chain.
 */
import path from "node:path";
import { afterAll, describe, expect, inject, test } from "vitest";
import { type Chain, createChain } from "../../devchain/index.js";
import { SVM_MINTS } from "../../devchain/svm-script.js";
import { holderMismatches } from "../setup/balances-oracle.js";
import { runCli } from "../setup/cli.js";
import { digestTables } from "../setup/digest.js";
import { FIXTURES_DIR } from "../setup/fixtures.js";
import { ingestEnv, query } from "../setup/ingest-env.js";
import { createTestDatabase, uniquePrefix } from "../setup/services.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * LiteSVM steps before the snapshot (the mints, then a round of the script: accounts, mints, transfers, burns, an
 * account opened and closed, per mint), and after it: the first mint's part of the next round, so the other mints'
 * accounts are known only from the snapshot at the end.
 */
const BEFORE = SVM_MINTS.length + 20;
const AFTER = 6;
const MINTS = SVM_MINTS.map((m) => m.key.publicKey.toBase58());

/** Produces slots until `steps` LiteSVM transactions are in produced blocks. */
async function produceSteps(chain: Chain, steps: number): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (chain.stats().svm_executed! - chain.stats().svm_buffered! < steps) {
    if (Date.now() > deadline) throw new Error("LiteSVM activity did not arrive within 90 s");
    if (chain.stats().svm_buffered! < 4) await sleep(20);
    else chain.tick();
  }
}

/** The LiteSVM mints' balances as a database holds them. */
async function balancesOf(url: string) {
  return {
    accounts: await query(
      url,
      `select address, mint, owner, program, amount::text from token_accounts
       where mint = any($1) and not closed order by address`,
      [MINTS],
    ),
    holders: await query(
      url,
      "select mint, owner, amount::text, accounts from token_holders where mint = any($1) order by mint, owner",
      [MINTS],
    ),
    tokens: await query(
      url,
      "select mint, program, decimals, holder_count, supply::text from tokens where mint = any($1) order by mint",
      [MINTS],
    ),
  };
}

describe("snapshot, then indexing from its slot", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  });

  test("ends with the token accounts, holders, holder counts and supply of a whole-history run", async () => {
    // finality lag 0: the accounts served (LiteSVM's) are those of the finalized tip
    const chain = await createChain({
      port: 0,
      fixtures: [path.join(FIXTURES_DIR, "blocks/getBlock-json-mainnet-converted")],
      autoProduce: false,
      finalityLag: 0,
      svmActivity: true,
    });
    cleanups.push(() => chain.close());
    await produceSteps(chain, BEFORE);
    const s = chain.slot("finalized");

    const snap = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    cleanups.push(() => snap.drop());
    const snapEnv = ingestEnv(chain, snap.url, inject("redisUrl"), uniquePrefix());
    for (const mint of MINTS) {
      const r = await runCli(["snapshot", "--mint", mint], snapEnv, 120_000);
      expect(r.code, r.stderr.slice(-3000)).toBe(0);
      expect(r.stdout).toContain(`at slot ${s}`);
    }
    const seeded = await query<{ n: number }>(
      snap.url,
      "select count(*)::int as n from token_accounts where mint = any($1) and slot = $2 and tx_index = 2147483647",
      [MINTS, s],
    );
    expect(seeded[0]!.n).toBeGreaterThanOrEqual(2 * MINTS.length);

    await produceSteps(chain, BEFORE + AFTER);
    const tip = chain.slot("finalized");
    expect(tip).toBeGreaterThan(s);
    const first = chain.history.slots[0]!;

    const after = await runCli(
      ["backfill", "--from-slot", String(s + 1), "--to-slot", String(tip), "--inline"],
      snapEnv,
      300_000,
    );
    expect(after.code, after.stderr.slice(-3000)).toBe(0);

    const full = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    cleanups.push(() => full.drop());
    const fullEnv = ingestEnv(chain, full.url, inject("redisUrl"), uniquePrefix());
    const all = await runCli(
      ["backfill", "--from-slot", String(first), "--to-slot", String(tip), "--inline"],
      fullEnv,
      300_000,
    );
    expect(all.code, all.stderr.slice(-3000)).toBe(0);

    const want = await balancesOf(full.url);
    // the load that lets the test fail: each mint has holders, and transactions after S changed some accounts
    expect(want.tokens.filter((t) => Number(t.holder_count) > 0).length).toBe(MINTS.length);
    const moved = await query<{ n: number }>(
      snap.url,
      "select count(*)::int as n from token_accounts where mint = any($1) and slot > $2",
      [MINTS, s],
    );
    expect(moved[0]!.n).toBeGreaterThan(0);
    // and some accounts only the snapshot knows (no stored transaction touched them after S)
    const kept = await query<{ n: number }>(
      snap.url,
      "select count(*)::int as n from token_accounts where mint = any($1) and slot = $2 and not closed",
      [MINTS, s],
    );
    expect(kept[0]!.n).toBeGreaterThan(0);
    expect(await balancesOf(snap.url)).toEqual(want);
    expect(await holderMismatches(snap.url)).toEqual({ holders: [], counts: [] });

    // a re-run at a later slot: the same state, since every account's latest change is already held
    const before = await digestTables(snap.url);
    const again = await runCli(["snapshot", "--mint", MINTS[0]!], snapEnv, 120_000);
    expect(again.code, again.stderr.slice(-3000)).toBe(0);
    expect(await balancesOf(snap.url)).toEqual(want);
    expect((await digestTables(snap.url)).token_holders).toEqual(before.token_holders);
  }, 600_000);
});
