/**
 * The balance reads' statements, as the API builds them, are served by the indexes of schema/balances.ts on filled
 * tables (one mint with 300,000 holders, as a popular token has), with the generic plans the pipelined mode runs
 * loaders on and with Postgres' default (plain mode): a holders page deep in the list starts at its cursor instead of
 * walking the holders before it.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import type { RequestContext } from "../../../api/context.js";
import { balancesOf, holdersOf, tokenAccountsOf } from "../../../api/graph/holding.js";
import { balanceChangesOf, tokenAccountsByAddress, walletsByAddress } from "../../../api/queries/index.js";
import { encodeCursor } from "../../../api/sql/cursor.js";
import type { Reader } from "../../../api/sql/index.js";
import { compile } from "../../../api/sql/sql.js";
import { createTestDatabase } from "../../setup/services.js";

const HOLDERS = 300_000;

/** A reader that records the statements it is asked for and answers none. */
function recorder() {
  const seen: { text: string; values: unknown[] }[] = [];
  const reader: Reader = {
    rows: async (q) => (seen.push(compile(q)), []),
    forget: () => {},
  };
  const ctx = { reader, limits: { defaultFirst: 50, maxFirst: 1000 } } as unknown as RequestContext;
  return { ctx, seen };
}

/** A value as an SQL literal (an array as an array literal), for EXECUTE. */
function literal(v: unknown): string {
  if (v == null) return "null";
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return literal(`{${v.map((x) => `"${String(x).replace(/["\\]/g, "\\$&")}"`).join(",")}}`);
  return `'${String(v).replace(/'/g, "''")}'`;
}

describe("balance reads use their indexes", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let client: pg.Client;

  beforeAll(async () => {
    db = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    // One mint with 300,000 holders (balances with ties: 6 owners per amount), 2,000 quieter mints of 50 holders.
    await client.query(`
      insert into token_holders (mint, owner, amount, accounts)
      select 'hotmint', 'owner' || i, (i % 50000) + 1, 1 from generate_series(1, ${HOLDERS}) i
      union all
      select 'mint' || (i % 2000), 'owner' || i, i, 1 from generate_series(1, 100000) i`);
    await client.query(`
      insert into token_accounts (address, mint, owner, program, amount, slot, tx_index)
      select 'acct' || i, 'mint' || (i % 3000), 'owner' || (i % 100000), 'spl-token', i, 300000000 + i / 4, i % 4
      from generate_series(1, 150000) i`);
    await client.query(`
      insert into token_account_changes (address, slot, tx_index, mint, owner, program, amount)
      select 'acct' || (i % 200000), 300000000 + i / 2000, i % 2000, 'mint' || (i % 3000), 'owner' || (i % 100000), 'spl-token', i
      from generate_series(1, 150000) i on conflict do nothing`);
    await client.query(`
      insert into wallets (address, lamports, slot, tx_index)
      select 'owner' || i, i, 300000000 + i / 4, i % 4 from generate_series(1, 100000) i`);
    await client.query(`
      insert into wallet_changes (address, slot, tx_index, lamports)
      select 'owner' || (i % 100000), 300000000 + i / 2000, i % 2000, i from generate_series(1, 200000) i
      on conflict do nothing`);
    await client.query("analyze");
  });
  afterAll(async () => {
    await client.end();
    await db.drop();
  });

  /** EXPLAIN (ANALYZE) of a recorded statement: on a generic plan (the pipelined mode's loaders) or Postgres' default. */
  async function explain(s: { text: string; values: unknown[] }, generic: boolean): Promise<string> {
    await client.query(`set plan_cache_mode = ${generic ? "force_generic_plan" : "auto"}`);
    await client.query("deallocate all");
    await client.query(`prepare s as ${s.text}`);
    // EXECUTE takes no bind parameters: the values go in as literals, typed by the prepared statement
    const args = s.values.map((v) => literal(v)).join(", ");
    const r = await client.query(
      `explain (analyze, costs off, timing off, summary off) execute s${args ? `(${args})` : ""}`,
    );
    return r.rows.map((row) => row["QUERY PLAN"]).join("\n");
  }

  /** The statements `build` asks for. */
  async function statements(build: (ctx: RequestContext) => Promise<unknown>) {
    const { ctx, seen } = recorder();
    await build(ctx);
    return seen;
  }

  const holdersCursor = (amount: number, owner: string) => encodeCursor("balance", [String(amount), owner]);

  test.each([false, true])(
    "a mint's holders, first page and deep pages both ways (generic plan: %s)",
    async (generic) => {
      const pages = [
        await statements((ctx) => holdersOf(ctx, ["hotmint"], { first: 50 }, null)),
        // 250,000 holders in, inside a run of equal balances
        await statements((ctx) =>
          holdersOf(ctx, ["hotmint"], { first: 50, after: holdersCursor(8334, "owner58333") }, null),
        ),
        await statements((ctx) =>
          holdersOf(ctx, ["hotmint"], { last: 50, before: holdersCursor(8334, "owner58333") }, null),
        ),
      ];
      for (const [s] of pages) {
        const plan = await explain(s!, generic);
        expect(plan).toMatch(/token_holders_top_idx/);
        // the index gives the order: no sort of the mint's holders (the page's own rows are sorted by parent)
        expect(plan).not.toMatch(/Seq Scan|top-N heapsort/);
        // the scan starts at the cursor: it reads the page (and a run of equal balances), not the holders before it
        const scanned = [...plan.matchAll(/Index Scan.*token_holders_top_idx[\s\S]*?actual rows=(\d+)/g)].map((m) =>
          Number(m[1]),
        );
        expect(scanned).toHaveLength(1);
        expect(scanned[0]).toBeLessThanOrEqual(51);
        if (process.env.SHOW_PLANS) console.log(plan);
        const removed = Number(/Rows Removed by Filter: (\d+)/.exec(plan)?.[1] ?? 0);
        expect(removed).toBeLessThanOrEqual(6);
      }
    },
  );

  test.each([false, true])("an owner's balances, token accounts and SOL (generic plan: %s)", async (generic) => {
    const checks: [{ text: string; values: unknown[] }[], RegExp][] = [
      [
        await statements((ctx) =>
          balancesOf(ctx, ["owner77"], { first: 50, after: encodeCursor("mint", ["mint1"]) }, null),
        ),
        /token_holders_owner_idx/,
      ],
      [await statements((ctx) => tokenAccountsOf(ctx, ["owner77"], { first: 50 }, null)), /token_accounts_owner_idx/],
      [await statements((ctx) => tokenAccountsByAddress(ctx.reader, ["acct7", "acct9"])), /token_accounts_pkey/],
      [await statements((ctx) => walletsByAddress(ctx.reader, ["owner7"])), /wallets_pkey/],
    ];
    for (const [[s], index] of checks) {
      const plan = await explain(s!, generic);
      expect(plan).toMatch(index);
      expect(plan).not.toMatch(/Seq Scan/);
    }
  });

  test.each([false, true])("an event's balance changes for the watched keys (generic plan: %s)", async (generic) => {
    const [s] = await statements((ctx) =>
      balanceChangesOf(ctx.reader, [300000100, 300000101], ["owner7", "owner8"], ["acct5"]),
    );
    const plan = await explain(s!, generic);
    expect(plan).toMatch(/token_account_changes_slot_idx/);
    expect(plan).toMatch(/wallet_changes_slot_idx|wallet_changes_pk/);
    expect(plan).not.toMatch(/Seq Scan/);
  });
});
