import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { createTestDatabase } from "../setup/services.js";

// The API's filters and orderings must be served by indexes (ascending btrees, scanned backward for
// ORDER BY ... DESC: a "DESC NULLS LAST" index would not match Postgres' default DESC NULLS FIRST), checked with
// EXPLAIN on a filled table
// (the planner prefers a sequential scan on tiny tables, so the data is large enough to matter, with one busy
// pool holding a third of the swaps, as on mainnet).
describe("indexes serve the API's filters and orderings", () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let client: pg.Client;
  // the partition made ahead of the rows holds none: scanning it whole costs nothing, and the planner rightly does
  let empty: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    // the raw tables are partitioned by slot range: the rows' partitions are made first, as the store does
    await client.query("select slotline_ensure_slot_partitions(array[300000000::int8])");
    await client.query(`
      insert into swaps (signature, instruction_path, pool, dex, trader, mint_in, mint_out, amount_in, amount_out, slot, tx_index, block_time)
      select 'sig' || i, '1', case when i % 3 = 0 then 'hotpool' else 'pool' || (i % 500) end, 'raydium-amm-v4', 'trader' || (i % 5000), 'mintA' || (i % 300), 'mintB' || (i % 300),
             i, i * 2, 300000000 + i / 4, i % 4, now() - (i || ' seconds')::interval
      from generate_series(1, 60000) i`);
    await client.query(`
      insert into token_transfers (signature, instruction_path, kind, mint, source, destination, source_owner, destination_owner, amount, slot, tx_index)
      select 'sig' || i, '1.1', 'transfer', 'mint' || (i % 300), 'acct' || (i % 7000), 'acct' || ((i + 1) % 7000),
             'owner' || (i % 3000), 'owner' || ((i + 7) % 3000), i, 300000000 + i / 4, i % 4
      from generate_series(1, 60000) i`);
    await client.query(`
      insert into transactions (signature, slot, tx_index, fee, success, fee_payer, program_ids)
      select 'sig' || i, 300000000 + i / 4, i % 4, 5000, true, 'payer' || (i % 5000),
             array['prog' || (i % 2000), 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA']
      from generate_series(1, 60000) i`);
    await client.query(`
      insert into pools (address, dex, program_id, mint_a, mint_b, vault_a, vault_b, first_seen_slot)
      select 'pool' || i, 'orca-whirlpool', 'whirl', 'mintA' || (i % 3000), 'mintB' || (i % 2000), 'va' || i, 'vb' || i, i
      from generate_series(1, 20000) i`);
    await client.query("analyze");
    empty = (
      await client.query<{ name: string }>(
        "select relname as name from pg_class where relnamespace = 'slot_partitions'::regnamespace and relkind = 'r' and reltuples = 0",
      )
    ).rows.map((r) => r.name);
    expect(empty.length).toBeGreaterThan(0);
  });
  afterAll(async () => {
    await client.end();
    await db.drop();
  });

  async function plan(sql: string, params: unknown[]): Promise<string> {
    const r = await client.query(`explain (format text) ${sql}`, params);
    return r.rows
      .map((row) => row["QUERY PLAN"] as string)
      .filter((line) => !empty.some((name) => line.includes(`Seq Scan on ${name} `)))
      .join("\n");
  }

  test.each([
    [
      "a quiet pool's swaps, newest first",
      "select * from swaps where pool = $1 order by slot desc, tx_index desc limit 50",
      ["pool7"],
      "swaps_pool_idx",
    ],
    // A pool with a third of all swaps: walking the slot index backward and filtering is as good.
    [
      "a busy pool's swaps, newest first",
      "select * from swaps where pool = $1 order by slot desc, tx_index desc limit 50",
      ["hotpool"],
      /swaps_pool_idx|swaps_slot_idx/,
      true,
    ],
    [
      "a trader's swaps, newest first",
      "select * from swaps where trader = $1 order by slot desc, tx_index desc limit 50",
      ["trader42"],
      "swaps_trader_idx",
    ],
    [
      "a pool's swaps in a time window (candles)",
      "select * from swaps where pool = $1 and block_time >= now() - interval '1 hour'",
      ["pool7"],
      "swaps_pool_time_idx",
    ],
    [
      "swaps in a slot range",
      "select * from swaps where slot between $1 and $2 order by slot desc, tx_index desc limit 50",
      [300001000, 300001100],
      "swaps_slot_idx",
      true,
    ],
    [
      "a mint's transfers",
      "select * from token_transfers where mint = $1 order by slot desc, tx_index desc limit 50",
      ["mint9"],
      "token_transfers_mint_idx",
    ],
    [
      "a wallet's outgoing transfers",
      "select * from token_transfers where source_owner = $1 order by slot desc limit 50",
      ["owner9"],
      "token_transfers_source_owner_idx",
    ],
    [
      "a program's transactions",
      "select * from transactions where program_ids @> array[$1]::text[] limit 50",
      ["prog7"],
      "transactions_program_ids_idx",
    ],
    [
      "a fee payer's transactions",
      "select * from transactions where fee_payer = $1 order by slot desc limit 50",
      ["payer7"],
      "transactions_fee_payer_idx",
    ],
    ["pools of a mint", "select * from pools where mint_a = $1", ["mintA7"], "pools_mint_a_idx"],
  ] as [string, string, unknown[], string | RegExp, boolean?][])(
    "%s uses %s",
    async (_name, sql, params, index, sortFree) => {
      const p = await plan(sql, params);
      expect(p).toMatch(index);
      expect(p).not.toMatch(/Seq Scan/);
      // Where many rows match, an ordered page comes straight off the index, with no sort of every match.
      if (sortFree) expect(p).not.toMatch(/Sort\b/);
    },
  );
});
