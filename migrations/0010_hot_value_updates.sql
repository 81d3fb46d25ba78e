-- swaps and trades get their value_usd from the pricing stage after they are stored: an UPDATE of every row. With
-- full pages each one is a new tuple on another page and a new entry in every index; with room left in the page
-- (fillfactor 60) it is a heap-only update, in the page, that touches no index. Measured over the recorded blocks
-- (pricing stage alone, Postgres CPU): 25.5 us per stored transaction at fillfactor 100, 19.0 at 75, 14.0 at 60.
-- The cost is heap space: these two tables' pages are kept 60% full.
CREATE FUNCTION slotline_hot_update_tables() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
  SELECT ARRAY['swaps', 'trades']
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION slotline_ensure_slot_partitions(wanted bigint[]) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  width constant bigint := slotline_partition_width();
  floor_slot bigint;
  n bigint;
  t text;
  part text;
  r record;
  made integer := 0;
  prev_timeout text := current_setting('lock_timeout');
BEGIN
  SELECT slot INTO floor_slot FROM public.cursors WHERE id = 'retention';
  IF floor_slot IS NOT NULL AND EXISTS (SELECT 1 FROM unnest(wanted) s WHERE s < floor_slot) THEN
    RAISE EXCEPTION 'slot % is below the retention floor %: its partition was dropped by RETENTION_SLOTS',
      (SELECT min(s) FROM unnest(wanted) s), floor_slot USING ERRCODE = 'SLR01';
  END IF;
  PERFORM pg_advisory_xact_lock(7462010002);
  -- making a partition locks its parent: behind a long read, give up (the caller retries) rather than queue every
  -- query of the table behind this one
  PERFORM set_config('lock_timeout', '3s', true);
  FOR n IN SELECT DISTINCT x FROM (SELECT s / width AS x FROM unnest(wanted) s
                                   UNION SELECT s / width + 1 FROM unnest(wanted) s) q WHERE x >= 0 ORDER BY 1 LOOP
    FOREACH t IN ARRAY slotline_slot_partitioned_tables() LOOP
      part := t || '_p' || lpad(n::text, 6, '0');
      CONTINUE WHEN to_regclass('slot_partitions.' || quote_ident(part)) IS NOT NULL;
      EXECUTE format('CREATE TABLE slot_partitions.%I PARTITION OF public.%I FOR VALUES FROM (%s) TO (%s)',
        part, t, n * width, (n + 1) * width);
      IF t = ANY (slotline_hot_update_tables()) THEN
        EXECUTE format('ALTER TABLE slot_partitions.%I SET (fillfactor = 60)', part);
      END IF;
      FOR r IN SELECT ci.relname AS child, pi.relname AS parent FROM pg_index x
          JOIN pg_class ci ON ci.oid = x.indexrelid
          JOIN pg_inherits h ON h.inhrelid = x.indexrelid
          JOIN pg_class pi ON pi.oid = h.inhparent
          WHERE x.indrelid = ('slot_partitions.' || quote_ident(part))::regclass LOOP
        EXECUTE format('ALTER INDEX slot_partitions.%I RENAME TO %I', r.child,
          left(r.parent, 55) || '_p' || lpad(n::text, 6, '0'));
      END LOOP;
      made := made + 1;
    END LOOP;
  END LOOP;
  PERFORM set_config('lock_timeout', prev_timeout, true);
  RETURN made;
END $$;
--> statement-breakpoint
-- the partitions made before this migration
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT c.relname FROM pg_inherits h
      JOIN pg_class c ON c.oid = h.inhrelid
      JOIN pg_class p ON p.oid = h.inhparent
      WHERE p.relname = ANY (slotline_hot_update_tables()) AND p.relnamespace = 'public'::regnamespace LOOP
    EXECUTE format('ALTER TABLE slot_partitions.%I SET (fillfactor = 60)', r.relname);
  END LOOP;
END $$;
