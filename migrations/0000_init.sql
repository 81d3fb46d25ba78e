CREATE TABLE "passed_signatures" (
	"signature" text PRIMARY KEY NOT NULL,
	"slot" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "slot_changes" (
	"slot" bigint NOT NULL,
	"kind" text NOT NULL,
	"key" text NOT NULL,
	"tx_index" integer DEFAULT 0 NOT NULL,
	"reserve_a" numeric(39, 0),
	"reserve_b" numeric(39, 0),
	"swapped" boolean DEFAULT false NOT NULL,
	CONSTRAINT "slot_changes_pk" PRIMARY KEY("slot","kind","key")
);
--> statement-breakpoint
CREATE TABLE "slots" (
	"slot" bigint PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"commitment" text,
	"block_time" timestamp with time zone,
	"parent_slot" bigint,
	"blockhash" text,
	"tx_count" integer DEFAULT 0 NOT NULL,
	"indexed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "slots_status_check" CHECK ("slots"."status" in ('pending', 'indexed', 'skipped', 'rolled_back'))
);
--> statement-breakpoint
CREATE TABLE "transactions" (
	"signature" text PRIMARY KEY NOT NULL,
	"slot" bigint NOT NULL,
	"block_time" timestamp with time zone,
	"tx_index" integer NOT NULL,
	"fee" numeric(39, 0) NOT NULL,
	"success" boolean NOT NULL,
	"err" jsonb,
	"fee_payer" text NOT NULL,
	"compute_units" bigint,
	"program_ids" text[] NOT NULL,
	"log_truncated" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "token_transfers" (
	"signature" text NOT NULL,
	"instruction_path" text NOT NULL,
	"kind" text NOT NULL,
	"mint" text NOT NULL,
	"source" text,
	"destination" text,
	"source_owner" text,
	"destination_owner" text,
	"amount" numeric(39, 0) NOT NULL,
	"fee" numeric(39, 0) DEFAULT 0 NOT NULL,
	"slot" bigint NOT NULL,
	"tx_index" integer NOT NULL,
	"block_time" timestamp with time zone,
	CONSTRAINT "token_transfers_natural_key" UNIQUE("signature","instruction_path"),
	CONSTRAINT "token_transfers_kind_check" CHECK ("token_transfers"."kind" in ('transfer', 'mint', 'burn'))
);
--> statement-breakpoint
CREATE TABLE "tokens" (
	"mint" text PRIMARY KEY NOT NULL,
	"program" text NOT NULL,
	"decimals" integer,
	"supply" numeric(39, 0),
	"mint_authority" text,
	"freeze_authority" text,
	"name" text,
	"symbol" text,
	"uri" text,
	"first_seen_slot" bigint NOT NULL,
	"updated_slot" bigint NOT NULL,
	CONSTRAINT "tokens_program_check" CHECK ("tokens"."program" in ('spl-token', 'token-2022'))
);
--> statement-breakpoint
CREATE TABLE "liquidity_events" (
	"signature" text NOT NULL,
	"instruction_path" text NOT NULL,
	"pool" text NOT NULL,
	"kind" text NOT NULL,
	"owner" text NOT NULL,
	"amount_a" numeric(39, 0) NOT NULL,
	"amount_b" numeric(39, 0) NOT NULL,
	"slot" bigint NOT NULL,
	"tx_index" integer NOT NULL,
	"block_time" timestamp with time zone,
	CONSTRAINT "liquidity_events_natural_key" UNIQUE("signature","instruction_path"),
	CONSTRAINT "liquidity_events_kind_check" CHECK ("liquidity_events"."kind" in ('add', 'remove'))
);
--> statement-breakpoint
CREATE TABLE "pools" (
	"address" text PRIMARY KEY NOT NULL,
	"dex" text NOT NULL,
	"program_id" text NOT NULL,
	"mint_a" text NOT NULL,
	"mint_b" text NOT NULL,
	"vault_a" text NOT NULL,
	"vault_b" text NOT NULL,
	"created_slot" bigint,
	"created_signature" text,
	"reserve_a" numeric(39, 0),
	"reserve_b" numeric(39, 0),
	"reserves_slot" bigint,
	"last_swap_slot" bigint,
	"first_seen_slot" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "swaps" (
	"signature" text NOT NULL,
	"instruction_path" text NOT NULL,
	"pool" text NOT NULL,
	"dex" text NOT NULL,
	"trader" text NOT NULL,
	"mint_in" text NOT NULL,
	"mint_out" text NOT NULL,
	"amount_in" numeric(39, 0) NOT NULL,
	"amount_out" numeric(39, 0) NOT NULL,
	"slot" bigint NOT NULL,
	"tx_index" integer NOT NULL,
	"block_time" timestamp with time zone,
	CONSTRAINT "swaps_natural_key" UNIQUE("signature","instruction_path")
);
--> statement-breakpoint
CREATE TABLE "program_events" (
	"signature" text NOT NULL,
	"instruction_path" text NOT NULL,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"ordinal" integer DEFAULT 0 NOT NULL,
	"program_id" text NOT NULL,
	"data" jsonb NOT NULL,
	"slot" bigint NOT NULL,
	"tx_index" integer NOT NULL,
	"block_time" timestamp with time zone,
	CONSTRAINT "program_events_natural_key" UNIQUE("signature","instruction_path","kind","name","ordinal"),
	CONSTRAINT "program_events_kind_check" CHECK ("program_events"."kind" in ('instruction', 'event', 'cpi_event'))
);
--> statement-breakpoint
CREATE TABLE "cursors" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"slot" bigint,
	"position" text,
	"params" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"done" bigint DEFAULT 0 NOT NULL,
	"total" bigint,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "cursors_kind_check" CHECK ("cursors"."kind" in ('live', 'backfill')),
	CONSTRAINT "cursors_status_check" CHECK ("cursors"."status" in ('running', 'paused', 'done', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "dead_letters" (
	"id" serial PRIMARY KEY NOT NULL,
	"queue" text NOT NULL,
	"job_id" text NOT NULL,
	"job_name" text NOT NULL,
	"payload" jsonb NOT NULL,
	"error" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retried_at" timestamp with time zone,
	CONSTRAINT "dead_letters_natural_key" UNIQUE("queue","job_id")
);
--> statement-breakpoint
CREATE INDEX "slot_changes_key_idx" ON "slot_changes" USING btree ("kind","key","slot");--> statement-breakpoint
CREATE INDEX "slots_status_idx" ON "slots" USING btree ("status","slot");--> statement-breakpoint
CREATE INDEX "transactions_slot_idx" ON "transactions" USING btree ("slot","tx_index");--> statement-breakpoint
CREATE INDEX "transactions_block_time_idx" ON "transactions" USING btree ("block_time");--> statement-breakpoint
CREATE INDEX "transactions_fee_payer_idx" ON "transactions" USING btree ("fee_payer","slot");--> statement-breakpoint
CREATE INDEX "transactions_program_ids_idx" ON "transactions" USING gin ("program_ids");--> statement-breakpoint
CREATE INDEX "token_transfers_slot_idx" ON "token_transfers" USING btree ("slot","tx_index","instruction_path");--> statement-breakpoint
CREATE INDEX "token_transfers_mint_idx" ON "token_transfers" USING btree ("mint","slot","tx_index");--> statement-breakpoint
CREATE INDEX "token_transfers_source_idx" ON "token_transfers" USING btree ("source","slot");--> statement-breakpoint
CREATE INDEX "token_transfers_destination_idx" ON "token_transfers" USING btree ("destination","slot");--> statement-breakpoint
CREATE INDEX "token_transfers_source_owner_idx" ON "token_transfers" USING btree ("source_owner","slot");--> statement-breakpoint
CREATE INDEX "token_transfers_destination_owner_idx" ON "token_transfers" USING btree ("destination_owner","slot");--> statement-breakpoint
CREATE INDEX "tokens_symbol_idx" ON "tokens" USING btree ("symbol");--> statement-breakpoint
CREATE INDEX "tokens_first_seen_idx" ON "tokens" USING btree ("first_seen_slot");--> statement-breakpoint
CREATE INDEX "liquidity_events_pool_idx" ON "liquidity_events" USING btree ("pool","slot","tx_index");--> statement-breakpoint
CREATE INDEX "liquidity_events_owner_idx" ON "liquidity_events" USING btree ("owner","slot");--> statement-breakpoint
CREATE INDEX "liquidity_events_slot_idx" ON "liquidity_events" USING btree ("slot");--> statement-breakpoint
CREATE INDEX "pools_dex_idx" ON "pools" USING btree ("dex");--> statement-breakpoint
CREATE INDEX "pools_mint_a_idx" ON "pools" USING btree ("mint_a");--> statement-breakpoint
CREATE INDEX "pools_mint_b_idx" ON "pools" USING btree ("mint_b");--> statement-breakpoint
CREATE INDEX "pools_last_swap_idx" ON "pools" USING btree ("last_swap_slot");--> statement-breakpoint
CREATE INDEX "swaps_slot_idx" ON "swaps" USING btree ("slot","tx_index","instruction_path");--> statement-breakpoint
CREATE INDEX "swaps_pool_idx" ON "swaps" USING btree ("pool","slot","tx_index");--> statement-breakpoint
CREATE INDEX "swaps_pool_time_idx" ON "swaps" USING btree ("pool","block_time");--> statement-breakpoint
CREATE INDEX "swaps_trader_idx" ON "swaps" USING btree ("trader","slot","tx_index");--> statement-breakpoint
CREATE INDEX "swaps_mint_in_idx" ON "swaps" USING btree ("mint_in","slot");--> statement-breakpoint
CREATE INDEX "swaps_mint_out_idx" ON "swaps" USING btree ("mint_out","slot");--> statement-breakpoint
CREATE INDEX "program_events_program_idx" ON "program_events" USING btree ("program_id","slot","tx_index");--> statement-breakpoint
CREATE INDEX "program_events_slot_idx" ON "program_events" USING btree ("slot");--> statement-breakpoint
CREATE INDEX "dead_letters_created_idx" ON "dead_letters" USING btree ("created_at");