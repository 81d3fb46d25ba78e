/**
 * The balances oracle: what token_accounts and wallets must hold after a set of decoded transactions (the latest
 * state of each account in chain order, whatever order they were stored in), and token_holders / holder_count as
 * computed in SQL from token_accounts itself.
 */
import pg from "pg";
import type { DecodedBlock } from "../../indexer/decode/index.js";

type Positioned = { slot: number; txIndex: number };
const later = (a: Positioned, b: Positioned) => a.slot - b.slot || a.txIndex - b.txIndex;

/** Per address, the state of the transaction latest in chain order, as text rows sorted by address. */
export function expectedBalances(blocks: DecodedBlock[]): { accounts: string[]; wallets: string[] } {
  const accounts = new Map<string, DecodedBlock["transactions"][number]["tokenAccounts"][number]>();
  const wallets = new Map<string, DecodedBlock["transactions"][number]["wallets"][number]>();
  for (const b of blocks)
    for (const t of b.transactions) {
      for (const a of t.tokenAccounts) {
        const prev = accounts.get(a.address);
        if (!prev || later(a, prev) > 0) accounts.set(a.address, a);
      }
      for (const w of t.wallets) {
        const prev = wallets.get(w.address);
        if (!prev || later(w, prev) > 0) wallets.set(w.address, w);
      }
    }
  return {
    accounts: [...accounts.values()]
      .map((a) => [a.address, a.mint, a.owner ?? "", a.program, a.amount, a.slot, a.txIndex, a.closed].join(" "))
      .sort(),
    wallets: [...wallets.values()].map((w) => [w.address, w.lamports, w.slot, w.txIndex].join(" ")).sort(),
  };
}

/** token_accounts and wallets as stored, in expectedBalances' text form. */
export async function storedBalances(url: string): Promise<{ accounts: string[]; wallets: string[] }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const a = await c.query<{ r: string }>(
      `select concat_ws(' ', address, mint, coalesce(owner, ''), program, amount::text, slot::text, tx_index::text, closed::text) as r
       from token_accounts`,
    );
    const w = await c.query<{ r: string }>(
      "select concat_ws(' ', address, lamports::text, slot::text, tx_index::text) as r from wallets",
    );
    return { accounts: a.rows.map((x) => x.r).sort(), wallets: w.rows.map((x) => x.r).sort() };
  } finally {
    await c.end();
  }
}

/**
 * Holders as stored against holders counted in SQL from token_accounts: the rows that differ (empty when equal), and
 * the tokens whose holder_count differs from the count of their owners with a positive balance.
 */
export async function holderMismatches(url: string): Promise<{ holders: string[]; counts: string[] }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const counted = `select mint, owner, sum(amount) as amount, count(*)::int as accounts from token_accounts
      where not closed and owner is not null group by mint, owner`;
    const holders = await c.query<{ r: string }>(
      `select concat_ws(' ', coalesce(h.mint, x.mint), coalesce(h.owner, x.owner), h.amount::text, x.amount::text,
              h.accounts::text, x.accounts::text) as r
       from token_holders h full join (${counted}) x on x.mint = h.mint and x.owner = h.owner
       where h.mint is null or x.mint is null or h.amount <> x.amount or h.accounts <> x.accounts`,
    );
    const counts = await c.query<{ r: string }>(
      `select t.mint || ' ' || t.holder_count || ' <> ' || coalesce(x.n, 0) as r from tokens t
       left join (select mint, count(*)::int as n from (${counted}) y where amount > 0 group by mint) x on x.mint = t.mint
       where t.holder_count <> coalesce(x.n, 0)`,
    );
    return { holders: holders.rows.map((x) => x.r), counts: counts.rows.map((x) => x.r) };
  } finally {
    await c.end();
  }
}
