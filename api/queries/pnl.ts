/**
 * Reads behind wallet PnL: a wallet's priced trades in chain order, and its current balances and prices of the
 * mints it traded. The PnL itself is computed from them in the API (api/graph/pnl.ts): average cost depends on order.
 */
import { type Reader, sql } from "../sql/index.js";

/** One trade of a wallet as PnL reads it (amounts raw, USD as decimal strings). */
export type PnlTradeRecord = {
  slot: number;
  txIndex: number;
  blockTime: Date | null;
  soldMint: string;
  soldAmount: string;
  boughtMint: string;
  boughtAmount: string;
  valueUsd: string | null;
};

/**
 * The wallet's trades at or below the pricing cursor, in chain order (slot, tx_index), at most `limit` of them; the
 * caller passes one more than it accepts to tell a cut list.
 */
export function walletTrades(reader: Reader, wallet: string, limit: number): Promise<PnlTradeRecord[]> {
  return reader.rows<PnlTradeRecord>(sql`
    select slot, tx_index as "txIndex", block_time as "blockTime", sold_mint as "soldMint",
      sold_amount::text as "soldAmount", bought_mint as "boughtMint", bought_amount::text as "boughtAmount",
      value_usd::text as "valueUsd"
    from trades
    where trader = ${wallet} and slot <= (select slot from cursors where id = 'pricing')
    order by slot, tx_index
    limit ${limit}`);
}

/** The wallet's balance of each mint (its token_holders row, 0 without one) and the mint's latest unit price. */
export function walletHoldings(
  reader: Reader,
  wallet: string,
  mints: readonly string[],
  stables: readonly string[],
): Promise<{ mint: string; balance: string; unitPriceUsd: string | null }[]> {
  return reader.rows(sql`
    select m as mint, coalesce(h.amount, 0)::text as balance,
      case when m = any(${stables}::text[]) and k.decimals is not null then (1 / 10::numeric ^ k.decimals)::text
           else p.unit::text end as "unitPriceUsd"
    from unnest(${mints}::text[]) m
      left join token_holders h on h.mint = m and h.owner = ${wallet}
      left join tokens k on k.mint = m
      left join lateral (select unit_price_usd as unit from token_prices where mint = m
        order by slot desc limit 1) p on true`);
}

/** The trades that bought or sold `mint` at or below the pricing cursor, in chain order, at most `limit`. */
export function mintTrades(
  reader: Reader,
  mint: string,
  limit: number,
): Promise<(PnlTradeRecord & { trader: string })[]> {
  return reader.rows(sql`
    select trader, slot, tx_index as "txIndex", block_time as "blockTime", sold_mint as "soldMint",
      sold_amount::text as "soldAmount", bought_mint as "boughtMint", bought_amount::text as "boughtAmount",
      value_usd::text as "valueUsd"
    from (select * from trades where sold_mint = ${mint} union select * from trades where bought_mint = ${mint}) t
    where slot <= (select slot from cursors where id = 'pricing')
    order by slot, tx_index, trader
    limit ${limit}`);
}

/** Each owner's balance of `mint` and the mint's latest unit price (as walletHoldings). */
export function holdersOf(
  reader: Reader,
  mint: string,
  owners: readonly string[],
  stables: readonly string[],
): Promise<{ owner: string; balance: string; unitPriceUsd: string | null }[]> {
  return reader.rows(sql`
    select o as owner, coalesce(h.amount, 0)::text as balance,
      case when ${mint} = any(${stables}::text[]) and k.decimals is not null then (1 / 10::numeric ^ k.decimals)::text
           else p.unit::text end as "unitPriceUsd"
    from unnest(${owners}::text[]) o
      left join token_holders h on h.mint = ${mint} and h.owner = o
      left join tokens k on k.mint = ${mint}
      left join lateral (select unit_price_usd as unit from token_prices where mint = ${mint}
        order by slot desc limit 1) p on true`);
}
