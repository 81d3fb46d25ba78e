CREATE TABLE "pool_tvl" (
	"pool" text NOT NULL,
	"slot" bigint NOT NULL,
	"reserve_a" numeric(39, 0),
	"reserve_b" numeric(39, 0),
	"volume_a" numeric(39, 0),
	"volume_b" numeric(39, 0),
	"tvl_usd" numeric,
	"block_time" timestamp with time zone,
	CONSTRAINT "pool_tvl_pk" PRIMARY KEY("pool","slot")
);
--> statement-breakpoint
CREATE TABLE "token_prices" (
	"mint" text NOT NULL,
	"slot" bigint NOT NULL,
	"unit_price_usd" numeric NOT NULL,
	"pool" text,
	"liquidity_usd" numeric,
	"block_time" timestamp with time zone,
	CONSTRAINT "token_prices_pk" PRIMARY KEY("mint","slot")
);
--> statement-breakpoint
ALTER TABLE "cursors" DROP CONSTRAINT "cursors_kind_check";--> statement-breakpoint
ALTER TABLE "swaps" ADD COLUMN "value_usd" numeric;--> statement-breakpoint
ALTER TABLE "trades" ADD COLUMN "value_usd" numeric;--> statement-breakpoint
CREATE INDEX "pool_tvl_slot_idx" ON "pool_tvl" USING btree ("slot");--> statement-breakpoint
CREATE INDEX "token_prices_slot_idx" ON "token_prices" USING btree ("slot");--> statement-breakpoint
ALTER TABLE "cursors" ADD CONSTRAINT "cursors_kind_check" CHECK ("cursors"."kind" in ('live', 'backfill', 'pricing'));