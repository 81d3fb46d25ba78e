/** A digest of every data table, to compare two databases row for row (reliability bar's oracle). */
import pg from "pg";

/** Tables and the key that orders them. `indexed_at`/`updated_at` are left out: they are wall-clock times. */
const TABLES: Record<string, { order: string; cols?: string }> = {
  transactions: { order: "signature" },
  tokens: { order: "mint" },
  token_transfers: { order: "signature, instruction_path" },
  pools: { order: "address" },
  swaps: { order: "signature, instruction_path" },
  liquidity_events: { order: "signature, instruction_path" },
  program_events: { order: "signature, instruction_path, kind, name, ordinal" },
  slots: { order: "slot", cols: "slot, status, block_time, parent_slot, blockhash, tx_count" },
};

/** md5 of each table's rows in key order, plus row counts. */
export async function digestTables(url: string): Promise<Record<string, { rows: number; md5: string | null }>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const out: Record<string, { rows: number; md5: string | null }> = {};
    for (const [table, { order, cols }] of Object.entries(TABLES)) {
      const r = await c.query<{ n: number; md5: string | null }>(
        `select count(*)::int as n, md5(string_agg(${cols ? `row(${cols})::text` : "t::text"}, '|' order by ${order})) as md5 from ${table} t`,
      );
      out[table] = { rows: r.rows[0]!.n, md5: r.rows[0]!.md5 };
    }
    return out;
  } finally {
    await c.end();
  }
}
