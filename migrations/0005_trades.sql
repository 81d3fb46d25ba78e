CREATE TABLE "trades" (
	"signature" text NOT NULL,
	"trader" text NOT NULL,
	"sold_mint" text NOT NULL,
	"sold_amount" numeric(39, 0) NOT NULL,
	"bought_mint" text NOT NULL,
	"bought_amount" numeric(39, 0) NOT NULL,
	"pools" text[] NOT NULL,
	"slot" bigint NOT NULL,
	"tx_index" integer NOT NULL,
	"block_time" timestamp with time zone,
	CONSTRAINT "trades_natural_key" UNIQUE("signature","trader")
);
--> statement-breakpoint
CREATE INDEX "trades_slot_idx" ON "trades" USING btree ("slot","tx_index");--> statement-breakpoint
CREATE INDEX "trades_trader_idx" ON "trades" USING btree ("trader","slot","tx_index");--> statement-breakpoint
CREATE INDEX "trades_sold_mint_idx" ON "trades" USING btree ("sold_mint","slot","tx_index");--> statement-breakpoint
CREATE INDEX "trades_bought_mint_idx" ON "trades" USING btree ("bought_mint","slot","tx_index");