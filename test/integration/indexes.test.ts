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
    // Market rollups: 300 tokens' hours over 40 days, their traders, and prices with block times.
    await client.query(`
      insert into market_stats (kind, entity, interval, bucket, volume_usd, trades, buys, sells, traders, first_slot, last_slot)
      select k, 'e' || (i % 300), 'hour', timestamptz '2025-01-01' + ((i / 300) || ' hours')::interval, i, 1, 1, 0, 1, i, i
      from generate_series(1, 288000) i cross join (values ('token'), ('pool')) v(k)`);
    await client.query(`
      insert into market_traders (kind, entity, interval, bucket, trader, first_slot)
      select 'token', 'e' || (i % 300), 'hour', timestamptz '2025-01-01' + ((i / 3000) || ' hours')::interval, 't' || i, i
      from generate_series(1, 60000) i`);
    await client.query(`
      insert into token_prices (mint, slot, unit_price_usd, block_time)
      select 'mint' || (i % 300), i, i, timestamptz '2025-01-01' + (i || ' seconds')::interval
      from generate_series(1, 60000) i`);
    // Trades: 5000 wallets over 300 mints (wallet PnL, a token's top traders).
    await client.query(`
      insert into trades (signature, trader, sold_mint, sold_amount, bought_mint, bought_amount, pools, slot, tx_index, block_time)
      select 'sig' || i, 'trader' || (i % 5000), 'mintA' || (i % 300), i, 'mintB' || (i % 290), i * 2, '{}',
             300000000 + i / 4, i % 4, now() - (i || ' seconds')::interval
      from generate_series(1, 60000) i`);
    // Wallet PnL rows: each trade's part per mint, 5000 wallets over 300 mints.
    await client.query(`
      insert into wallet_pnl (trader, mint, slot, tx_index, block_time, bought_amount, sold_amount, bought_usd, sold_usd,
        realized_usd, qty, cost)
      select 'trader' || (i % 5000), 'mintA' || (i % 300), 300000000 + i / 4, i % 4, now() - (i || ' seconds')::interval,
             i, 0, i, 0, 0, i, i
      from generate_series(1, 60000) i`);
    // Rankings: four generations of 5000 tokens under each of 7 orderings.
    await client.query(`
      insert into market_rankings (kind, ordering, generation, rank, entity, value, liquidity_usd, dexes, created_at)
      select 'token', o, g, i, 'e' || i, i, i, '{orca-whirlpool}', timestamptz '2025-01-01' + (i || ' minutes')::interval
      from generate_series(1, 5000) i, generate_series(100, 400, 100) g,
        unnest(array['VOLUME_24H_DESC', 'PRICE_CHANGE_24H_DESC', 'MARKET_CAP_DESC', 'LIQUIDITY_DESC', 'TRADES_24H_DESC',
          'HOLDERS_DESC', 'NEWEST']) o`);
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
    [
      "a token's hourly buckets in a range (stats, a window's sums)",
      "select * from market_stats where kind = 'token' and entity = any($1::text[]) and interval = 'hour' and bucket >= $2 and bucket < $3",
      [["e7"], "2025-01-10T00:00:00Z", "2025-01-11T00:00:00Z"],
      "market_stats_pk",
    ],
    [
      "every DEX's buckets in a range (dexStats)",
      "select * from market_stats where kind = 'dex' and interval = 'day' and bucket >= $1 and bucket < $2 order by bucket",
      ["2025-01-10T00:00:00Z", "2025-01-11T00:00:00Z"],
      "market_stats_bucket_idx",
    ],
    [
      "a window's distinct traders",
      "select count(distinct trader) from market_traders where kind = 'token' and entity = $1 and interval = 'hour' and bucket >= $2",
      ["e7", "2025-01-01T10:00:00Z"],
      "market_traders_pk",
    ],
    [
      "the rollup rows a rewind recomputes",
      "select * from market_stats where last_slot >= $1",
      [287000],
      "market_stats_last_slot_idx",
    ],
    [
      "a wallet's trades in chain order",
      "select * from trades where trader = $1 and slot <= $2 order by slot, tx_index limit 20001",
      ["trader7", 400000000],
      "trades_trader_idx",
    ],
    [
      "a token's trades, sold side",
      "select * from trades where sold_mint = $1 and slot <= $2",
      ["mintA7", 400000000],
      "trades_sold_mint_idx",
    ],
    [
      "a token's trades, bought side",
      "select * from trades where bought_mint = $1 and slot <= $2",
      ["mintB7", 400000000],
      "trades_bought_mint_idx",
    ],
    [
      "a wallet's PnL rows in a window (Account.pnl)",
      "select * from wallet_pnl where trader = $1 and block_time >= $2",
      ["trader7", "2025-01-01T00:00:00Z"],
      "wallet_pnl_pk",
    ],
    [
      "a (wallet, token)'s basis: its newest PnL row",
      "select qty, cost from wallet_pnl where trader = $1 and mint = $2 and slot <= $3 order by slot desc, tx_index desc limit 1",
      ["trader7", "mintA7", 400000000],
      "wallet_pnl_pk",
      true,
    ],
    [
      "a token's PnL rows in a window (Token.topTraders)",
      "select * from wallet_pnl where mint = $1 and block_time >= now() - interval '1 hour'",
      ["mintA7"],
      "wallet_pnl_mint_idx",
    ],
    [
      "the PnL rows a rewind of the pricing stage deletes",
      "delete from wallet_pnl where slot >= $1",
      [300014000],
      "wallet_pnl_slot_idx",
    ],
    [
      "a ranking's page after a cursor, filtered",
      "select entity, rank from market_rankings where kind = 'token' and ordering = $1 and generation = $2 and rank > $3 and liquidity_usd >= $4::numeric order by rank limit 21",
      ["VOLUME_24H_DESC", 300, 2000, 10],
      "market_rankings_pk",
      true,
    ],
    [
      "the generations a pricing run prunes or a rewind drops",
      "delete from market_rankings where generation >= $1",
      [400],
      "market_rankings_generation_idx",
    ],
    [
      "a token's price before a window (price change)",
      "select unit_price_usd from token_prices where mint = $1 and block_time < $2 order by block_time desc, slot desc limit 1",
      ["mint7", "2025-01-01T10:00:00Z"],
      "token_prices_mint_time_idx",
    ],
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
