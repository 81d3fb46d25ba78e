/** Reads of the balance tables: `token_holders`, `token_accounts`, `wallets` and their change logs. */
import { tokenAccountChanges, tokenAccounts, tokenHolders, walletChanges, wallets } from "../../schema/index.js";
import { type Fragment, type ListSpec, type Reader, raw, selectAll, sql } from "../sql/index.js";
import { type RecordOf, columnsOf, fromOf } from "./common.js";

/** One owner's balance of one mint (its open token accounts of the mint together), as the API reads it. */
export type HoldingRecord = RecordOf<typeof tokenHolders>;

const HOLDING_COLUMNS = columnsOf(tokenHolders);

/**
 * Holdings: a mint's holders (`Token.holders`) and an owner's balances (`Account.balances`), always read under one
 * parent, so each ordering's last column is unique within the list: the owner under a mint, the mint under an owner.
 * @dev BALANCE is amount descending (nulls last, though there are none) then owner ascending: the order of
 * token_holders_top_idx, which is partial (amount > 0, stated as a literal by holdingsOfMint so that a generic plan
 * still matches it).
 */
export const HOLDINGS: ListSpec = {
  from: fromOf(tokenHolders),
  select: selectAll(HOLDING_COLUMNS),
  columns: HOLDING_COLUMNS,
  orders: {
    BALANCE: {
      name: "balance",
      cols: [
        { expr: HOLDING_COLUMNS.amount, type: "numeric", as: "amount", descNullsLast: true },
        { expr: HOLDING_COLUMNS.owner, type: "text", as: "owner", flip: true },
      ],
    },
    MINT: { name: "mint", cols: [{ expr: HOLDING_COLUMNS.mint, type: "text", as: "mint" }] },
  },
};

/** Ties a holding to its mint `ref`; a positive balance only (the holders, as holder_count counts them). */
export const holdingsOfMint = (ref: Fragment): Fragment => sql`t.mint = ${ref} and t.amount > 0`;

/** Ties a holding to its owner `ref`; a positive balance only (what the owner holds). */
export const holdingsOfOwner = (ref: Fragment): Fragment => sql`t.owner = ${ref} and t.amount > 0`;

/** A token account as the API reads it (its latest state). */
export type TokenAccountRecord = RecordOf<typeof tokenAccounts>;

const ACCOUNT_COLUMNS = columnsOf(tokenAccounts);
const ACCOUNT_SELECT = selectAll(ACCOUNT_COLUMNS);

/** An owner's token accounts, by mint then address (token_accounts_owner_idx). */
export const TOKEN_ACCOUNTS: ListSpec = {
  from: fromOf(tokenAccounts),
  select: ACCOUNT_SELECT,
  columns: ACCOUNT_COLUMNS,
  orders: {
    MINT: {
      name: "mint",
      cols: [
        { expr: ACCOUNT_COLUMNS.mint, type: "text", as: "mint" },
        { expr: ACCOUNT_COLUMNS.address, type: "text", as: "address" },
      ],
    },
  },
};

/** Filters of `Account.tokenAccounts(where:)`: a mint; closed accounts only when `closed` says so. */
export type TokenAccountWhere = { mint?: string | null; closed?: boolean | null };

/** SQL conditions for a TokenAccountWhere: open accounts unless `closed` is given. */
export function tokenAccountFilters(w: TokenAccountWhere | null | undefined): Fragment[] {
  const out: Fragment[] = [];
  if (w?.mint != null) out.push(sql`t.mint = ${w.mint}`);
  out.push(sql`t.closed = ${w?.closed ?? false}`);
  return out;
}

/** Token accounts by address, in one statement. */
export function tokenAccountsByAddress(reader: Reader, addresses: readonly string[]): Promise<TokenAccountRecord[]> {
  return reader.rows<TokenAccountRecord>(
    sql`select ${raw(ACCOUNT_SELECT)} from ${raw(fromOf(tokenAccounts))} where t.address = any(${addresses}::text[])`,
  );
}

/** A signer's lamports as of its latest stored transaction. */
export type WalletRecord = RecordOf<typeof wallets>;

const WALLET_SELECT = selectAll(columnsOf(wallets));

/** Wallets by address, in one statement. */
export function walletsByAddress(reader: Reader, addresses: readonly string[]): Promise<WalletRecord[]> {
  return reader.rows<WalletRecord>(
    sql`select ${raw(WALLET_SELECT)} from ${raw(fromOf(wallets))} where t.address = any(${addresses}::text[])`,
  );
}

/**
 * A balance as a slot left it: a token account's (`token`) from `token_account_changes`, or a signer's lamports
 * (`sol`, owner = address, no mint) from `wallet_changes`.
 */
export type BalanceChangeRecord = {
  kind: "token" | "sol";
  address: string;
  owner: string | null;
  mint: string | null;
  program: RecordOf<typeof tokenAccountChanges>["program"] | null;
  amount: string;
  closed: boolean;
  slot: number;
  txIndex: number;
};

const tac = columnsOf(tokenAccountChanges);
const wc = columnsOf(walletChanges);

/**
 * The balances slots `slots` left of the token accounts owned by `owners` or at `addresses`, and of the wallets at
 * either, in chain order, in one statement (the change logs' slot indexes, then the keys).
 */
export function balanceChangesOf(
  reader: Reader,
  slots: readonly number[],
  owners: readonly string[],
  addresses: readonly string[],
): Promise<BalanceChangeRecord[]> {
  const wallets = [...new Set([...owners, ...addresses])];
  return reader.rows<BalanceChangeRecord>(sql`
    select 'token' as kind, ${raw(tac.address)} as address, ${raw(tac.owner)} as owner, ${raw(tac.mint)} as mint,
           ${raw(tac.program)} as program, ${raw(tac.amount)} as amount, ${raw(tac.closed)} as closed,
           ${raw(tac.slot)} as slot, ${raw(tac.txIndex)} as "txIndex"
      from ${raw(fromOf(tokenAccountChanges))}
     where ${raw(tac.slot)} = any(${slots}::int8[])
       and (${raw(tac.owner)} = any(${owners}::text[]) or ${raw(tac.address)} = any(${addresses}::text[]))
    union all
    select 'sol', ${raw(wc.address)}, ${raw(wc.address)}, null, null, ${raw(wc.lamports)}, false, ${raw(wc.slot)},
           ${raw(wc.txIndex)}
      from ${raw(fromOf(walletChanges))}
     where ${raw(wc.slot)} = any(${slots}::int8[]) and ${raw(wc.address)} = any(${wallets}::text[])
    order by slot, "txIndex", kind desc, address`);
}
