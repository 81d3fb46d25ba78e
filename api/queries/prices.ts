/**
 * Reads of what the pricing stage keeps (`token_prices`, `pool_tvl`): each mint's and pool's latest row, for many
 * keys in one statement.
 */
import { getTableColumns, getTableName } from "drizzle-orm";
import { poolTvl, tokenPrices, tokens } from "../../schema/index.js";
import { type Reader, raw, sql } from "../sql/index.js";

const col = (table: Parameters<typeof getTableColumns>[0], key: string) => getTableColumns(table)[key]!.name;
const TP = getTableName(tokenPrices);
const PT = getTableName(poolTvl);
const TK = getTableName(tokens);

/** A mint's latest USD price per whole token (null while its decimals are unknown), with the slot that set it. */
export type TokenPriceRecord = { mint: string; priceUsd: string | null; slot: number };

/** Each mint's latest price, in one statement (a mint without one has no row). */
export function latestTokenPrices(reader: Reader, mints: readonly string[]): Promise<TokenPriceRecord[]> {
  const [mint, slot, unit] = [col(tokenPrices, "mint"), col(tokenPrices, "slot"), col(tokenPrices, "unitPriceUsd")];
  const [tMint, decimals] = [col(tokens, "mint"), col(tokens, "decimals")];
  return reader.rows<TokenPriceRecord>(sql`
    select m as mint, p.slot::int8 as slot,
      case when k.${raw(decimals)} is null then null else trim_scale(p.unit * 10::numeric ^ k.${raw(decimals)})::text end as "priceUsd"
    from unnest(${mints}::text[]) m
    cross join lateral (select ${raw(slot)} as slot, ${raw(unit)} as unit from ${raw(TP)}
      where ${raw(mint)} = m order by ${raw(slot)} desc limit 1) p
    left join ${raw(TK)} k on k.${raw(tMint)} = m`);
}

/** A pool's latest TVL in USD (null when neither side has a price), with the slot that set it. */
export type PoolTvlRecord = { pool: string; tvlUsd: string | null; slot: number };

/** Each pool's latest TVL, in one statement (a pool the pricing stage has not seen has no row). */
export function latestPoolTvl(reader: Reader, pools: readonly string[]): Promise<PoolTvlRecord[]> {
  const [pool, slot, tvl] = [col(poolTvl, "pool"), col(poolTvl, "slot"), col(poolTvl, "tvlUsd")];
  return reader.rows<PoolTvlRecord>(sql`
    select a as pool, p.slot::int8 as slot, p.tvl::text as "tvlUsd"
    from unnest(${pools}::text[]) a
    cross join lateral (select ${raw(slot)} as slot, ${raw(tvl)} as tvl from ${raw(PT)}
      where ${raw(pool)} = a order by ${raw(slot)} desc limit 1) p`);
}
