/** The oracle of pool_candles: the candles computed from scratch over `swaps`, independently of the store. */

/**
 * The candles from scratch, written independently of the store's statement: minutes by epoch arithmetic, open and
 * close by row_number over the swap key (slot, position, instruction path as numbers, then signature), as text rows
 * in pool_candles' column order. A two-hop swap's second leg "N#1" sorts after "N" and before "N.0" ({N,-1,1}).
 */
export const FROM_SCRATCH = `
  with s as (
    select s.pool, to_timestamp(floor(extract(epoch from s.block_time) / 60) * 60) as bucket, s.signature, s.slot, s.tx_index,
      string_to_array(replace(s.instruction_path, '#', '.-1.'), '.')::int[] as path,
      case when s.mint_in = p.mint_a then s.amount_out::numeric / nullif(s.amount_in, 0) else s.amount_in::numeric / nullif(s.amount_out, 0) end as ratio,
      case when s.mint_in = p.mint_a then s.amount_in else s.amount_out end as va,
      case when s.mint_in = p.mint_a then s.amount_out else s.amount_in end as vb
    from swaps s join pools p on p.address = s.pool
    where s.block_time is not null),
  priced as (
    select *, row_number() over (partition by pool, bucket order by slot, tx_index, path, signature) as first,
      row_number() over (partition by pool, bucket order by slot desc, tx_index desc, path desc, signature desc) as last
    from s where ratio is not null)
  select row(a.pool, a.bucket, o.ratio, a.high, a.low, c.ratio, o.slot, o.tx_index, o.path, c.slot, c.tx_index, c.path, a.va, a.vb, a.n)::text as r
  from (select pool, bucket, max(ratio) as high, min(ratio) as low, sum(va) as va, sum(vb) as vb, count(*)::int as n from s group by pool, bucket) a
  left join priced o on o.pool = a.pool and o.bucket = a.bucket and o.first = 1
  left join priced c on c.pool = a.pool and c.bucket = a.bucket and c.last = 1
  order by a.pool, a.bucket`;
