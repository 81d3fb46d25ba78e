/** A digest of every data table, to compare two databases row for row (reliability bar's oracle). */
import pg from "pg";

/**
 * Tables and the key that orders them. `indexed_at` and commitment are left out (wall-clock and timing), and only
 * indexed slots count: a faulty run may also hold rolled-back or pending rows that a clean run never wrote.
 */
const TABLES: Record<string, { order: string; cols?: string; where?: string }> = {
  transactions: { order: "signature" },
  // supply_slot is the slot a supply was read at (timing); the supply itself is exact whenever it was read
  tokens: {
    order: "mint",
    cols: "mint, program, decimals, supply, holder_count, mint_authority, freeze_authority, name, symbol, uri, first_seen_slot, updated_slot",
  },
  token_transfers: { order: "signature, instruction_path" },
  pools: { order: "address" },
  // value_usd is the pricing stage's: digestPricing covers it once that stage has caught up
  swaps: {
    order: "signature, instruction_path",
    cols: "signature, instruction_path, pool, dex, trader, mint_in, mint_out, amount_in, amount_out, slot, tx_index, block_time",
  },
  liquidity_events: { order: "signature, instruction_path" },
  program_events: { order: "signature, instruction_path, kind, name, ordinal" },
  trades: {
    order: "signature, trader",
    cols: "signature, trader, sold_mint, sold_amount, bought_mint, bought_amount, pools, slot, tx_index, block_time",
  },
  token_accounts: { order: "address" },
  token_holders: { order: "mint, owner" },
  wallets: { order: "address" },
  slots: {
    order: "slot",
    cols: "slot, status, block_time, parent_slot, blockhash, tx_count",
    where: "status = 'indexed'",
  },
};

/**
 * What the pricing stage writes: prices, pool TVL, the USD values of swaps and trades, the market rollups and wallet PnL. Compared only once the
 * stage has caught up with the resume point in both databases (it runs behind it), so a slow stage is not a mismatch.
 */
const PRICING_TABLES: typeof TABLES = {
  token_prices: { order: "mint, slot" },
  pool_tvl: { order: "pool, slot" },
  swaps: { order: "signature, instruction_path", cols: "signature, instruction_path, value_usd" },
  trades: { order: "signature, trader", cols: "signature, trader, value_usd" },
  market_stats: { order: "kind, entity, interval, bucket" },
  market_traders: { order: "kind, entity, interval, bucket, trader" },
  wallet_pnl: { order: "trader, mint, slot, tx_index" },
  // the newest generation (at the caught-up cursor); holders and market cap read live token columns, left out
  market_rankings: {
    order: "kind, ordering, rank",
    where:
      "generation = (select max(generation) from market_rankings) and ordering not in ('HOLDERS_DESC', 'MARKET_CAP_DESC')",
  },
};

/** md5 of each table's rows in key order, plus row counts; `pricing`: the pricing stage's rows instead. */
export async function digestTables(
  url: string,
  opts: { pricing?: boolean } = {},
): Promise<Record<string, { rows: number; md5: string | null }>> {
  const c = new pg.Client({ connectionString: url });
  c.on("error", () => {}); // ended by the server between queries (a restart): the next query fails instead
  await c.connect();
  try {
    const out: Record<string, { rows: number; md5: string | null }> = {};
    for (const [table, { order, cols, where }] of Object.entries(opts.pricing ? PRICING_TABLES : TABLES)) {
      const r = await c.query<{ n: number; md5: string | null }>(
        `select count(*)::int as n, md5(string_agg(${cols ? `row(${cols})::text` : "t::text"}, '|' order by ${order})) as md5 from ${table} t where ${where ?? "true"}`,
      );
      out[table] = { rows: r.rows[0]!.n, md5: r.rows[0]!.md5 };
    }
    return out;
  } finally {
    await c.end();
  }
}

/** Up to `limit` rows of `table` (the digest's columns) that are in one database and not the other (for failure messages). */
export async function diffTable(
  urlA: string,
  urlB: string,
  table: string,
  limit = 5,
): Promise<{ onlyA: string[]; onlyB: string[] }> {
  const rows = async (url: string) => {
    const c = new pg.Client({ connectionString: url });
    c.on("error", () => {}); // ended by the server between queries (a restart): the next query fails instead
    await c.connect();
    try {
      const { cols, where } = TABLES[table] ?? {};
      const r = await c.query<{ t: string }>(
        `select ${cols ? `row(${cols})::text` : "t::text"} as t from ${table} t where ${where ?? "true"}`,
      );
      return new Set(r.rows.map((x) => x.t));
    } finally {
      await c.end();
    }
  };
  const [a, b] = await Promise.all([rows(urlA), rows(urlB)]);
  return {
    onlyA: [...a].filter((x) => !b.has(x)).slice(0, limit),
    onlyB: [...b].filter((x) => !a.has(x)).slice(0, limit),
  };
}
