CREATE TABLE "token_account_changes" (
	"address" text NOT NULL,
	"slot" bigint NOT NULL,
	"tx_index" integer NOT NULL,
	"mint" text NOT NULL,
	"owner" text,
	"program" text NOT NULL,
	"amount" numeric(39, 0) NOT NULL,
	"closed" boolean DEFAULT false NOT NULL,
	CONSTRAINT "token_account_changes_pk" PRIMARY KEY("address","slot"),
	CONSTRAINT "token_account_changes_program_check" CHECK ("token_account_changes"."program" in ('spl-token', 'token-2022'))
);
--> statement-breakpoint
CREATE TABLE "token_accounts" (
	"address" text PRIMARY KEY NOT NULL,
	"mint" text NOT NULL,
	"owner" text,
	"program" text NOT NULL,
	"amount" numeric(39, 0) NOT NULL,
	"slot" bigint NOT NULL,
	"tx_index" integer NOT NULL,
	"closed" boolean DEFAULT false NOT NULL,
	CONSTRAINT "token_accounts_program_check" CHECK ("token_accounts"."program" in ('spl-token', 'token-2022'))
);
--> statement-breakpoint
CREATE TABLE "token_holders" (
	"mint" text NOT NULL,
	"owner" text NOT NULL,
	"amount" numeric(39, 0) NOT NULL,
	"accounts" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "token_holders_pk" PRIMARY KEY("mint","owner")
);
--> statement-breakpoint
CREATE TABLE "wallet_changes" (
	"address" text NOT NULL,
	"slot" bigint NOT NULL,
	"tx_index" integer NOT NULL,
	"lamports" numeric(39, 0) NOT NULL,
	CONSTRAINT "wallet_changes_pk" PRIMARY KEY("address","slot")
);
--> statement-breakpoint
CREATE TABLE "wallets" (
	"address" text PRIMARY KEY NOT NULL,
	"lamports" numeric(39, 0) NOT NULL,
	"slot" bigint NOT NULL,
	"tx_index" integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE "tokens" ADD COLUMN "supply_slot" bigint;--> statement-breakpoint
ALTER TABLE "tokens" ADD COLUMN "holder_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "token_account_changes_slot_idx" ON "token_account_changes" USING btree ("slot");--> statement-breakpoint
CREATE INDEX "token_accounts_owner_idx" ON "token_accounts" USING btree ("owner","mint");--> statement-breakpoint
CREATE INDEX "token_accounts_mint_idx" ON "token_accounts" USING btree ("mint","amount");--> statement-breakpoint
CREATE INDEX "token_holders_top_idx" ON "token_holders" USING btree ("mint","amount" DESC NULLS LAST,"owner") WHERE "token_holders"."amount" > 0;--> statement-breakpoint
CREATE INDEX "token_holders_owner_idx" ON "token_holders" USING btree ("owner");--> statement-breakpoint
CREATE INDEX "wallet_changes_slot_idx" ON "wallet_changes" USING btree ("slot");