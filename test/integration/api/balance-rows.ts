/**
 * The balance tables as the store wrote them (token_accounts, token_account_changes, token_holders, wallets,
 * wallet_changes), read back with plain SQL: what the API's answers are checked against.
 */
import type pg from "pg";

/** A token account's state after a transaction (a token_accounts or token_account_changes row). */
export type AccountState = {
  address: string;
  mint: string;
  owner: string | null;
  program: "spl-token" | "token-2022";
  amount: bigint;
  slot: number;
  txIndex: number;
  closed: boolean;
};

/** A signer's lamports after a transaction (a wallets or wallet_changes row). */
export type WalletState = { address: string; lamports: bigint; slot: number; txIndex: number };

/** A token_holders row. */
export type HolderRow = { mint: string; owner: string; amount: bigint; accounts: number };

/** Every row of the balance tables. */
export type BalanceRows = {
  accounts: Map<string, AccountState>;
  accountChanges: AccountState[];
  wallets: Map<string, WalletState>;
  walletChanges: WalletState[];
  holders: HolderRow[];
};

const ACCOUNT = `address, mint, owner, program, amount::text as amount, slot::int8 as slot, tx_index as "txIndex", closed`;
const WALLET = `address, lamports::text as lamports, slot::int8 as slot, tx_index as "txIndex"`;

/** Reads the tables (amounts as bigint). */
export async function storedBalanceRows(sql: pg.Pool): Promise<BalanceRows> {
  const acc = (r: any): AccountState => ({ ...r, amount: BigInt(r.amount), slot: Number(r.slot) });
  const wal = (r: any): WalletState => ({ ...r, lamports: BigInt(r.lamports), slot: Number(r.slot) });
  const accounts = (await sql.query(`select ${ACCOUNT} from token_accounts`)).rows.map(acc);
  const accountChanges = (await sql.query(`select ${ACCOUNT} from token_account_changes`)).rows.map(acc);
  const wallets = (await sql.query(`select ${WALLET} from wallets`)).rows.map(wal);
  const walletChanges = (await sql.query(`select ${WALLET} from wallet_changes`)).rows.map(wal);
  const holders = (await sql.query(`select mint, owner, amount::text as amount, accounts from token_holders`)).rows.map(
    (r: any): HolderRow => ({ ...r, amount: BigInt(r.amount) }),
  );
  return {
    accounts: new Map(accounts.map((a) => [a.address, a])),
    accountChanges,
    wallets: new Map(wallets.map((w) => [w.address, w])),
    walletChanges,
    holders,
  };
}
