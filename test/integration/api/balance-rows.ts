/**
 * Balance rows derived from the two whole mainnet blocks, as the indexer's store keeps them (schema/balances.ts):
 * each token account as the last transaction touching it left it (`meta.postTokenBalances`; present before and absent
 * after: closed), per slot in the change log, the holders' sums, and the lamports of the signers of every transaction
 * that moved a token balance. Written with SQL, so the API's tests do not depend on the store's balance path.
 */
import type pg from "pg";
import { TOKEN_2022_PROGRAM_ID } from "../../../core/presets.js";
import type { RawBlockTransaction, RawTokenBalance } from "../../../core/solana-types.js";
import { rawFixtureBlocks } from "../../setup/fixtures.js";

/** A token account's state after a transaction. */
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

/** A signer's lamports after a transaction. */
export type WalletState = { address: string; lamports: bigint; slot: number; txIndex: number };

/** What the fixture blocks say: latest states, per-slot states (the change logs), holders. */
export type BalanceRows = {
  accounts: Map<string, AccountState>;
  accountChanges: AccountState[];
  wallets: Map<string, WalletState>;
  walletChanges: WalletState[];
  /** `${mint} ${owner}` -> the sum of the owner's open accounts of the mint, and how many */
  holders: Map<string, { mint: string; owner: string; amount: bigint; accounts: number }>;
  slots: number[];
};

const programOf = (b: RawTokenBalance) => (b.programId === TOKEN_2022_PROGRAM_ID ? "token-2022" : "spl-token");

function keysOf(tx: RawBlockTransaction): string[] {
  const loaded = tx.meta?.loadedAddresses;
  return [...tx.transaction.message.accountKeys, ...(loaded?.writable ?? []), ...(loaded?.readonly ?? [])];
}

/** Derives the rows from the blocks, in chain order (slot, position in block). */
export function fixtureBalanceRows(): BalanceRows {
  const accounts = new Map<string, AccountState>();
  const wallets = new Map<string, WalletState>();
  const accountChanges = new Map<string, AccountState>();
  const walletChanges = new Map<string, WalletState>();
  const blocks = rawFixtureBlocks();
  for (const { slot, block } of blocks) {
    block.transactions.forEach((tx, txIndex) => {
      const meta = tx.meta;
      if (!meta || (!meta.preTokenBalances?.length && !meta.postTokenBalances?.length)) return;
      const keys = keysOf(tx);
      const post = new Set<string>();
      const set = (s: AccountState) => {
        accounts.set(s.address, s);
        accountChanges.set(`${s.address} ${slot}`, s);
      };
      for (const b of meta.postTokenBalances ?? []) {
        const address = keys[b.accountIndex]!;
        post.add(address);
        const amount = BigInt(b.uiTokenAmount.amount);
        set({
          address,
          mint: b.mint,
          owner: b.owner ?? null,
          program: programOf(b),
          amount,
          slot,
          txIndex,
          closed: false,
        });
      }
      for (const b of meta.preTokenBalances ?? []) {
        const address = keys[b.accountIndex]!;
        if (post.has(address)) continue;
        set({
          address,
          mint: b.mint,
          owner: b.owner ?? null,
          program: programOf(b),
          amount: 0n,
          slot,
          txIndex,
          closed: true,
        });
      }
      const signers = tx.transaction.message.header.numRequiredSignatures;
      for (let i = 0; i < signers; i++) {
        const w = { address: keys[i]!, lamports: BigInt(meta.postBalances[i]!), slot, txIndex };
        wallets.set(w.address, w);
        walletChanges.set(`${w.address} ${slot}`, w);
      }
    });
  }
  const holders: BalanceRows["holders"] = new Map();
  for (const a of accounts.values()) {
    if (a.closed || a.owner == null) continue;
    const k = `${a.mint} ${a.owner}`;
    const h = holders.get(k) ?? { mint: a.mint, owner: a.owner, amount: 0n, accounts: 0 };
    h.amount += a.amount;
    h.accounts++;
    holders.set(k, h);
  }
  return {
    accounts,
    accountChanges: [...accountChanges.values()],
    wallets,
    walletChanges: [...walletChanges.values()],
    holders,
    slots: blocks.map((b) => b.slot),
  };
}

const str = (v: bigint) => v.toString();

/** Writes the rows (and each stored token's holder_count) with SQL. */
export async function writeBalanceRows(sql: pg.Pool, rows: BalanceRows): Promise<void> {
  const acc = (list: AccountState[]) => [
    list.map((a) => a.address),
    list.map((a) => a.mint),
    list.map((a) => a.owner),
    list.map((a) => a.program),
    list.map((a) => str(a.amount)),
    list.map((a) => a.slot),
    list.map((a) => a.txIndex),
    list.map((a) => a.closed),
  ];
  const cols = "address, mint, owner, program, amount, slot, tx_index, closed";
  const unnest =
    "unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::int8[], $7::int4[], $8::bool[])";
  await sql.query(`insert into token_accounts (${cols}) select * from ${unnest}`, acc([...rows.accounts.values()]));
  await sql.query(`insert into token_account_changes (${cols}) select * from ${unnest}`, acc(rows.accountChanges));
  const hs = [...rows.holders.values()];
  await sql.query(
    `insert into token_holders (mint, owner, amount, accounts) select * from unnest($1::text[], $2::text[], $3::numeric[], $4::int4[])`,
    [hs.map((h) => h.mint), hs.map((h) => h.owner), hs.map((h) => str(h.amount)), hs.map((h) => h.accounts)],
  );
  const wal = (list: WalletState[]) => [
    list.map((w) => w.address),
    list.map((w) => str(w.lamports)),
    list.map((w) => w.slot),
    list.map((w) => w.txIndex),
  ];
  const wunnest = "unnest($1::text[], $2::numeric[], $3::int8[], $4::int4[])";
  await sql.query(
    `insert into wallets (address, lamports, slot, tx_index) select * from ${wunnest}`,
    wal([...rows.wallets.values()]),
  );
  await sql.query(
    `insert into wallet_changes (address, lamports, slot, tx_index) select * from ${wunnest}`,
    wal(rows.walletChanges),
  );
  await sql.query(
    `update tokens k set holder_count = (select count(*) from token_holders h where h.mint = k.mint and h.amount > 0)`,
  );
}
