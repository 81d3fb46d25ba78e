-- Custom SQL migration file, put your code below! --
-- Fills pool_candles from the swaps already stored (an upgraded database), with the same aggregate the store keeps
-- per minute (indexer/store/write-sql.ts, recomputeCandles): the raw price ratio per swap, open/close as the first
-- and last priced swap in key order (slot, tx_index, instruction path as numbers; signature breaks ties), their keys,
-- high/low, the volumes and the swap count. Swaps without a block time or without their pool row are in no candle.
INSERT INTO "pool_candles" ("pool", "bucket", "open", "high", "low", "close", "open_slot", "open_tx_index", "open_path",
  "close_slot", "close_tx_index", "close_path", "volume_a", "volume_b", "swaps")
SELECT g.pool, g.bucket, g.r[1], g.high, g.low, g.r[cardinality(g.r)],
  g.ok[1], g.ok[2]::int4, g.ok[3:]::int4[], g.ck[1], g.ck[2]::int4, g.ck[3:]::int4[], g.va, g.vb, g.n
FROM (
  SELECT s.pool, s.bucket,
    array_agg(s.ratio ORDER BY s.k, s.signature) FILTER (WHERE s.ratio IS NOT NULL) AS r,
    min(s.k) FILTER (WHERE s.ratio IS NOT NULL) AS ok, max(s.k) FILTER (WHERE s.ratio IS NOT NULL) AS ck,
    max(s.ratio) AS high, min(s.ratio) AS low, sum(s.va) AS va, sum(s.vb) AS vb, count(*)::int4 AS n
  FROM (
    SELECT s.pool, s.signature, date_bin('1 minute', s.block_time, 'epoch'::timestamptz) AS bucket,
      array[s.slot, s.tx_index] || string_to_array(s.instruction_path, '.')::int8[] AS k,
      CASE WHEN s.mint_in = p.mint_a THEN s.amount_out::numeric / nullif(s.amount_in, 0)
           ELSE s.amount_in::numeric / nullif(s.amount_out, 0) END AS ratio,
      CASE WHEN s.mint_in = p.mint_a THEN s.amount_in ELSE s.amount_out END AS va,
      CASE WHEN s.mint_in = p.mint_a THEN s.amount_out ELSE s.amount_in END AS vb
    FROM "swaps" s JOIN "pools" p ON p.address = s.pool
    WHERE s.block_time IS NOT NULL) s
  GROUP BY s.pool, s.bucket) g;
