-- The raw per-transaction tables, partitioned by slot range (declarative partitioning, one partition per 432,000
-- slots: an epoch). Partitions live in the slot_partitions schema and are made by the writers themselves
-- (slotline_ensure_slot_partitions, before a batch is stored: its slots' partitions and the next ones), dropped by
-- retention (slotline_drop_slot_partitions). A unique key on a partitioned table must hold the partition key, so
-- each natural key gains slot; the store deletes a signature's rows at another slot when it lands again after a fork.
-- On a filled database this migration moves every row into the partitioned tables, in its transaction.
CREATE SCHEMA IF NOT EXISTS slot_partitions;
--> statement-breakpoint
CREATE FUNCTION slotline_partition_width() RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT 432000::bigint';
--> statement-breakpoint
CREATE FUNCTION slotline_slot_partitioned_tables() RETURNS text[] LANGUAGE sql IMMUTABLE AS
  $$SELECT ARRAY['transactions', 'token_transfers', 'swaps', 'liquidity_events', 'program_events', 'trades']$$;
--> statement-breakpoint
-- Makes the partition of each slot in `wanted` and the one after it, for every partitioned table; idempotent and
-- safe from any number of processes (an advisory lock, then a check of what exists). Refuses a slot below the
-- retention floor: its partition was dropped on purpose. Each child index is named after its parent index.
CREATE FUNCTION slotline_ensure_slot_partitions(wanted bigint[]) RETURNS integer LANGUAGE plpgsql AS $$
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
-- Drops every partition wholly below `horizon` and raises the retention floor to the highest bound dropped.
CREATE FUNCTION slotline_drop_slot_partitions(horizon bigint) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  width constant bigint := slotline_partition_width();
  r record;
  top bigint;
  dropped integer := 0;
  prev_timeout text := current_setting('lock_timeout');
BEGIN
  PERFORM pg_advisory_xact_lock(7462010002);
  PERFORM set_config('lock_timeout', '3s', true);
  FOR r IN SELECT c.relname, substring(c.relname FROM '_p([0-9]+)$')::bigint AS n FROM pg_inherits h
      JOIN pg_class c ON c.oid = h.inhrelid
      JOIN pg_class p ON p.oid = h.inhparent
      JOIN pg_namespace ns ON ns.oid = c.relnamespace
      WHERE ns.nspname = 'slot_partitions' AND c.relkind = 'r'
        AND p.relname = ANY (slotline_slot_partitioned_tables()) ORDER BY 2 LOOP
    CONTINUE WHEN (r.n + 1) * width > horizon;
    EXECUTE format('DROP TABLE slot_partitions.%I', r.relname);
    top := greatest(top, (r.n + 1) * width);
    dropped := dropped + 1;
  END LOOP;
  PERFORM set_config('lock_timeout', prev_timeout, true);
  IF top IS NOT NULL THEN
    INSERT INTO public.cursors (id, kind, status, slot) VALUES ('retention', 'retention', 'running', top)
      ON CONFLICT (id) DO UPDATE SET slot = greatest(cursors.slot, excluded.slot), updated_at = now();
  END IF;
  RETURN dropped;
END $$;
--> statement-breakpoint
-- Each table: renamed aside, its keys and indexes dropped, the partitioned table made in its place with the same
-- columns, defaults and checks, its natural key with slot, the same indexes; then partitions for the slots held, the
-- rows moved, the old table dropped.
DO $$
DECLARE
  keys constant jsonb := '{
    "transactions": ["transactions_pkey", "PRIMARY KEY (signature, slot)"],
    "token_transfers": ["token_transfers_natural_key", "UNIQUE (signature, instruction_path, slot)"],
    "swaps": ["swaps_natural_key", "UNIQUE (signature, instruction_path, slot)"],
    "liquidity_events": ["liquidity_events_natural_key", "UNIQUE (signature, instruction_path, slot)"],
    "program_events": ["program_events_natural_key", "UNIQUE (signature, instruction_path, kind, name, ordinal, slot)"],
    "trades": ["trades_natural_key", "UNIQUE (signature, trader, slot)"]
  }';
  t text;
  old text;
  defs text[];
  d text;
  c record;
  held bigint[] := '{}';
  more bigint[];
BEGIN
  FOREACH t IN ARRAY slotline_slot_partitioned_tables() LOOP
    old := t || '_unpartitioned';
    EXECUTE format('ALTER TABLE public.%I RENAME TO %I', t, old);
    SELECT coalesce(array_agg(pg_get_indexdef(i.indexrelid)), '{}') INTO defs FROM pg_index i
      WHERE i.indrelid = ('public.' || old)::regclass
        AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid);
    FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = ('public.' || old)::regclass AND contype IN ('p', 'u') LOOP
      EXECUTE format('ALTER TABLE public.%I DROP CONSTRAINT %I', old, c.conname);
    END LOOP;
    FOR c IN SELECT indexrelid::regclass::text AS name FROM pg_index WHERE indrelid = ('public.' || old)::regclass LOOP
      EXECUTE 'DROP INDEX ' || c.name;
    END LOOP;
    EXECUTE format('CREATE TABLE public.%I (LIKE public.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (slot)', t, old);
    EXECUTE format('ALTER TABLE public.%I ADD CONSTRAINT %I %s', t, keys->t->>0, keys->t->>1);
    FOREACH d IN ARRAY defs LOOP
      EXECUTE replace(d, ' ON public.' || old || ' ', ' ON public.' || t || ' ');
    END LOOP;
    EXECUTE format('SELECT coalesce(array_agg(DISTINCT slot / slotline_partition_width() * slotline_partition_width()), ''{}'') FROM public.%I', old)
      INTO more;
    held := held || more;
  END LOOP;
  PERFORM slotline_ensure_slot_partitions(held);
  FOREACH t IN ARRAY slotline_slot_partitioned_tables() LOOP
    old := t || '_unpartitioned';
    EXECUTE format('INSERT INTO public.%I SELECT * FROM public.%I', t, old);
    EXECUTE format('DROP TABLE public.%I', old);
  END LOOP;
END $$;
--> statement-breakpoint
ALTER TABLE "cursors" DROP CONSTRAINT "cursors_kind_check";
--> statement-breakpoint
ALTER TABLE "cursors" ADD CONSTRAINT "cursors_kind_check" CHECK ("cursors"."kind" in ('live', 'backfill', 'pricing', 'retention'));
