CREATE TABLE "wallet_pnl" (
	"trader" text NOT NULL,
	"mint" text NOT NULL,
	"slot" bigint NOT NULL,
	"tx_index" integer NOT NULL,
	"block_time" timestamp with time zone,
	"bought_amount" numeric(39, 0) NOT NULL,
	"sold_amount" numeric(39, 0) NOT NULL,
	"bought_usd" numeric NOT NULL,
	"sold_usd" numeric NOT NULL,
	"realized_usd" numeric NOT NULL,
	"qty" numeric(39, 0) NOT NULL,
	"cost" numeric NOT NULL,
	CONSTRAINT "wallet_pnl_pk" PRIMARY KEY("trader","mint","slot","tx_index")
);
--> statement-breakpoint
CREATE INDEX "wallet_pnl_mint_idx" ON "wallet_pnl" USING btree ("mint","block_time");--> statement-breakpoint
CREATE INDEX "wallet_pnl_slot_idx" ON "wallet_pnl" USING btree ("slot");