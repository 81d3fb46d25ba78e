/**
 * Reads behind wallet PnL: the `wallet_pnl` rows the pricing stage keeps (per trader, mint and trade, with the
 * average-cost basis after each) summed over a window, and current balances and prices of the mints.
 * @dev every `wallet_pnl` row is at or below the pricing cursor: the stage writes and rewinds them with it.
 */
import { walletPnl } from "../../schema/index.js";
import { type Reader, raw, sql } from "../sql/index.js";
import { newestOf } from "./common.js";
import { names } from "./market.js";

const WP = names(walletPnl);

/** A trade's place in the chain. */
export type PnlTradeRecord = { slot: number; blockTime: Date | null };

/**
 * One (trader, mint)'s figures over a window: sums of its rows there (amounts raw, USD as exact decimal strings),
 * its first and last trade there, and its basis after its newest trade (whatever the window).
 */
export type PnlSumRecord = {
  trader: string;
  mint: string;
  trades: number;
  boughtAmount: string;
  soldAmount: string;
  boughtUsd: string;
  soldUsd: string;
  realizedUsd: string;
  firstSlot: string;
  firstTime: Date | null;
  lastSlot: string;
  lastTime: Date | null;
  qty: string;
  cost: string;
};

/** The window's condition: rows from `cut` (spelled only when there is one, so each plan is the window's own). */
const since = (cut: Date | null) => (cut == null ? raw("") : sql`and ${WP.blockTime} >= ${cut}::timestamptz`);

/**
 * The window's rows of (trader = $key or mint = $key), summed per (trader, mint), with each pair's newest basis.
 * @dev the first and last trades are read by the key (trader, mint, slot, tx_index), not sorted out of the sums: the
 * window runs to the priced clock, so a pair's newest row, whatever the window, is its last trade in it; every row
 * of a slot has that slot's block time.
 */
function sums(by: "trader" | "mint", key: string, cut: Date | null) {
  const col = by === "trader" ? WP.trader : WP.mint;
  const other = by === "trader" ? raw("mint") : raw("trader");
  return sql`
    with g as (
      select ${WP.trader} as trader, ${WP.mint} as mint, count(*)::int as trades,
        sum(${WP.boughtAmount})::text as "boughtAmount", sum(${WP.soldAmount})::text as "soldAmount",
        sum(${WP.boughtUsd})::text as "boughtUsd", sum(${WP.soldUsd})::text as "soldUsd",
        sum(${WP.realizedUsd})::text as "realizedUsd", min(${WP.slot}) as fs
      from ${WP.$} where ${col} = ${key} ${since(cut)}
      group by ${WP.trader}, ${WP.mint})
    select g.trader, g.mint, g.trades, g."boughtAmount", g."soldAmount", g."boughtUsd", g."soldUsd", g."realizedUsd",
      g.fs::text as "firstSlot", f.t as "firstTime", b.slot::text as "lastSlot", b.t as "lastTime",
      b.qty::text as qty, b.cost::text as cost
    from g
      cross join lateral (select ${WP.blockTime} as t from ${WP.$}
        where ${WP.trader} = g.trader and ${WP.mint} = g.mint and ${WP.slot} = g.fs limit 1) f
      cross join lateral (select ${WP.qty} as qty, ${WP.cost} as cost, ${WP.slot} as slot, ${WP.blockTime} as t
        from ${WP.$} where ${WP.trader} = g.trader and ${WP.mint} = g.mint
        order by ${WP.slot} desc, ${WP.txIndex} desc limit 1) b
    order by g.${other}`;
}

/** A wallet's figures per mint it traded in the window (trades from `cut`; null: all), by mint. */
export function walletPnlSums(reader: Reader, wallet: string, cut: Date | null): Promise<PnlSumRecord[]> {
  return reader.rows<PnlSumRecord>(sums("trader", wallet, cut));
}

/** Each trader's figures on `mint` in the window, by trader. */
export function mintPnlSums(reader: Reader, mint: string, cut: Date | null): Promise<PnlSumRecord[]> {
  return reader.rows<PnlSumRecord>(sums("mint", mint, cut));
}

/** The wallet's trades in the window (each has one row per mint it bought or sold). */
export async function walletTradeCount(reader: Reader, wallet: string, cut: Date | null): Promise<number> {
  const r = await reader.rows<{ n: number }>(sql`
    select count(*)::int as n from (select 1 from ${WP.$} where ${WP.trader} = ${wallet} ${since(cut)}
      group by ${WP.slot}, ${WP.txIndex}) x`);
  return r[0]?.n ?? 0;
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
      left join lateral (select unit_price_usd as unit from token_prices
        where ${newestOf(raw("mint"), raw("m"), raw("slot"))} limit 1) p on true`);
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
      left join lateral (select unit_price_usd as unit from token_prices
        where ${newestOf(raw("mint"), mint, raw("slot"))} limit 1) p on true`);
}
