import { sql } from "drizzle-orm";
import { bigint, boolean, index, integer, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { amount, enumCheck } from "./columns.js";
import { TOKEN_PROGRAMS } from "./tokens.js";

/**
 * Every token account a stored transaction touched (or a snapshot seeded), as of the latest of them in chain order.
 * @dev set from the transaction's `meta.postTokenBalances`; the row with the highest (slot, tx_index) wins whatever
 * order batches arrive in. A snapshot seeds rows at its context slot with tx_index = SNAPSHOT_TX_INDEX, so a
 * transaction of that slot (already in the snapshot) does not override it and any later one does. `closed`: the
 * account was in the transaction's preTokenBalances and not in its postTokenBalances (amount 0 then).
 */
export const tokenAccounts = pgTable(
  "token_accounts",
  {
    address: text("address").primaryKey(),
    mint: text("mint").notNull(),
    owner: text("owner"),
    program: text("program", { enum: TOKEN_PROGRAMS }).notNull(),
    amount: amount("amount").notNull(),
    slot: bigint("slot", { mode: "number" }).notNull(),
    txIndex: integer("tx_index").notNull(),
    closed: boolean("closed").notNull().default(false),
  },
  (t) => [
    index("token_accounts_owner_idx").on(t.owner, t.mint),
    index("token_accounts_mint_idx").on(t.mint, t.amount),
    enumCheck("token_accounts_program_check", t.program, TOKEN_PROGRAMS),
  ],
);

/** A `token_accounts` row to insert. */
export type NewTokenAccount = typeof tokenAccounts.$inferInsert;

/** The tx_index a snapshot's rows carry: after every transaction of the snapshot's slot. */
export const SNAPSHOT_TX_INDEX = 2_147_483_647;

/**
 * The change log of `token_accounts`: each account's state after the last transaction of a slot that touched it.
 * @dev what a rolled-back slot's accounts are restored from (the latest remaining row, or none: the account goes);
 * finalization prunes every row but the latest finalized one per account, as it does `slot_changes`.
 */
export const tokenAccountChanges = pgTable(
  "token_account_changes",
  {
    address: text("address").notNull(),
    slot: bigint("slot", { mode: "number" }).notNull(),
    txIndex: integer("tx_index").notNull(),
    mint: text("mint").notNull(),
    owner: text("owner"),
    program: text("program", { enum: TOKEN_PROGRAMS }).notNull(),
    amount: amount("amount").notNull(),
    closed: boolean("closed").notNull().default(false),
  },
  (t) => [
    primaryKey({ name: "token_account_changes_pk", columns: [t.address, t.slot] }),
    index("token_account_changes_slot_idx").on(t.slot),
    enumCheck("token_account_changes_program_check", t.program, TOKEN_PROGRAMS),
  ],
);

/** A `token_account_changes` row to insert. */
export type NewTokenAccountChange = typeof tokenAccountChanges.$inferInsert;

/**
 * Per mint and owner, the sum of the owner's open token accounts of that mint: the holders list, kept as
 * `token_accounts` changes (never counted at query time). `tokens.holder_count` counts the rows with amount > 0.
 */
export const tokenHolders = pgTable(
  "token_holders",
  {
    mint: text("mint").notNull(),
    owner: text("owner").notNull(),
    amount: amount("amount").notNull(),
    accounts: integer("accounts").notNull().default(0),
  },
  (t) => [
    primaryKey({ name: "token_holders_pk", columns: [t.mint, t.owner] }),
    index("token_holders_top_idx").on(t.mint, t.amount.desc(), t.owner).where(sql`${t.amount} > 0`),
    index("token_holders_owner_idx").on(t.owner),
  ],
);

/** A `token_holders` row to insert. */
export type NewTokenHolder = typeof tokenHolders.$inferInsert;

/** The lamports of every account that signed a stored transaction, as of the latest of them in chain order. */
export const wallets = pgTable("wallets", {
  address: text("address").primaryKey(),
  lamports: amount("lamports").notNull(),
  slot: bigint("slot", { mode: "number" }).notNull(),
  txIndex: integer("tx_index").notNull(),
});

/** A `wallets` row to insert. */
export type NewWallet = typeof wallets.$inferInsert;

/** The change log of `wallets`, as `token_account_changes` is of `token_accounts`. */
export const walletChanges = pgTable(
  "wallet_changes",
  {
    address: text("address").notNull(),
    slot: bigint("slot", { mode: "number" }).notNull(),
    txIndex: integer("tx_index").notNull(),
    lamports: amount("lamports").notNull(),
  },
  (t) => [
    primaryKey({ name: "wallet_changes_pk", columns: [t.address, t.slot] }),
    index("wallet_changes_slot_idx").on(t.slot),
  ],
);

/** A `wallet_changes` row to insert. */
export type NewWalletChange = typeof walletChanges.$inferInsert;
