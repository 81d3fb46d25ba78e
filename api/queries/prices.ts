/**
 * Reads of what the pricing stage keeps (`token_prices`, `pool_tvl`): each mint's and pool's latest row, for many
 * keys in one statement.
 */
import { getTableColumns, getTableName } from "drizzle-orm";
import { poolTvl, tokenPrices, tokens } from "../../schema/index.js";
import { type Reader, raw, sql } from "../sql/index.js";
import { newestOf } from "./common.js";

const col = (table: Parameters<typeof getTableColumns>[0], key: string) => getTableColumns(table)[key]!.name;
const TP = getTableName(tokenPrices);
const PT = getTableName(poolTvl);
const TK = getTableName(tokens);

/**
 * A mint's latest USD price per whole token and its market cap (exact supply times that price), as decimal strings:
 * null while its price, decimals or supply are unknown; a stablecoin is 1.
 */
export type TokenPriceRecord = { mint: string; priceUsd: string | null; marketCapUsd: string | null };

/** Each mint's latest price and market cap, in one statement; `stables` are worth 1 USD per whole token. */
export function latestTokenPrices(
  reader: Reader,
  mints: readonly string[],
  stables: readonly string[],
): Promise<TokenPriceRecord[]> {
  const [mint, slot, unit] = [col(tokenPrices, "mint"), col(tokenPrices, "slot"), col(tokenPrices, "unitPriceUsd")];
  const [tMint, decimals, supply] = [col(tokens, "mint"), col(tokens, "decimals"), col(tokens, "supply")];
  const dec = raw(`k.${decimals}`);
  const sup = raw(`k.${supply}`);
  return reader.rows<TokenPriceRecord>(sql`
    select m as mint,
      case when m = any(${stables}::text[]) then '1'
           when ${dec} is null or p.unit is null then null
           else trim_scale(p.unit * 10::numeric ^ ${dec})::text end as "priceUsd",
      case when ${sup} is null or ${dec} is null then null
           when m = any(${stables}::text[]) then trim_scale(round(${sup} / 10::numeric ^ ${dec}, 12))::text
           when p.unit is null then null
           else trim_scale(round(p.unit * ${sup}, 12))::text end as "marketCapUsd"
    from unnest(${mints}::text[]) m
    left join lateral (select ${raw(unit)} as unit from ${raw(TP)}
      where ${newestOf(raw(mint), raw("m"), raw(slot))} limit 1) p on true
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
      where ${newestOf(raw(pool), raw("a"), raw(slot))} limit 1) p`);
}
