CREATE TABLE "pool_candles" (
	"pool" text NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"open" numeric,
	"high" numeric,
	"low" numeric,
	"close" numeric,
	"open_slot" bigint,
	"open_tx_index" integer,
	"open_path" integer[],
	"close_slot" bigint,
	"close_tx_index" integer,
	"close_path" integer[],
	"volume_a" numeric NOT NULL,
	"volume_b" numeric NOT NULL,
	"swaps" integer NOT NULL,
	CONSTRAINT "pool_candles_pool_bucket_pk" PRIMARY KEY("pool","bucket")
);
