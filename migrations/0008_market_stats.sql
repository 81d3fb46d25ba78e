CREATE TABLE "market_rankings" (
	"kind" text NOT NULL,
	"ordering" text NOT NULL,
	"generation" bigint NOT NULL,
	"rank" integer NOT NULL,
	"entity" text NOT NULL,
	"value" numeric,
	"liquidity_usd" numeric,
	"dexes" text[] NOT NULL,
	"created_at" timestamp with time zone,
	CONSTRAINT "market_rankings_pk" PRIMARY KEY("kind","ordering","generation","rank"),
	CONSTRAINT "market_rankings_kind_check" CHECK ("market_rankings"."kind" in ('token', 'pool'))
);
--> statement-breakpoint
CREATE TABLE "market_stats" (
	"kind" text NOT NULL,
	"entity" text NOT NULL,
	"interval" text NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"volume_usd" numeric NOT NULL,
	"trades" integer NOT NULL,
	"buys" integer NOT NULL,
	"sells" integer NOT NULL,
	"traders" integer NOT NULL,
	"first_slot" bigint NOT NULL,
	"last_slot" bigint NOT NULL,
	CONSTRAINT "market_stats_pk" PRIMARY KEY("kind","entity","interval","bucket"),
	CONSTRAINT "market_stats_kind_check" CHECK ("market_stats"."kind" in ('token', 'pool', 'dex')),
	CONSTRAINT "market_stats_interval_check" CHECK ("market_stats"."interval" in ('hour', 'day'))
);
--> statement-breakpoint
CREATE TABLE "market_traders" (
	"kind" text NOT NULL,
	"entity" text NOT NULL,
	"interval" text NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"trader" text NOT NULL,
	"first_slot" bigint NOT NULL,
	CONSTRAINT "market_traders_pk" PRIMARY KEY("kind","entity","interval","bucket","trader")
);
--> statement-breakpoint
CREATE INDEX "market_rankings_generation_idx" ON "market_rankings" USING btree ("generation");--> statement-breakpoint
CREATE INDEX "market_stats_last_slot_idx" ON "market_stats" USING btree ("last_slot");--> statement-breakpoint
CREATE INDEX "market_stats_bucket_idx" ON "market_stats" USING btree ("kind","interval","bucket");--> statement-breakpoint
CREATE INDEX "token_prices_mint_time_idx" ON "token_prices" USING btree ("mint","block_time");