/**
 * The wallet PnL rows (`wallet_pnl`) the pricing stage writes as it prices trades: each (trader, mint) basis as of a
 * slot, and the rows of a range. A rewind of the stage deletes the rows at and above its slot (store/pricing.ts).
 */
import type pg from "pg";
import { walletPnl } from "../../schema/index.js";
import { sqlNames } from "./columns.js";

const wp = sqlNames(walletPnl);

/** Each (trader, mint) of $1/$2: the basis of its newest row at or below slot $3. */
const BASES = `select u.trader, u.mint, b.qty::text as qty, b.cost::text as cost
     from unnest($1::text[], $2::text[]) as u(trader, mint)
     cross join lateral (select ${wp.qty} as qty, ${wp.cost} as cost from ${wp.$table}
       where ${wp.trader} = u.trader and ${wp.mint} = u.mint and ${wp.slot} <= $3
       order by ${wp.slot} desc, ${wp.txIndex} desc limit 1) b`;
const COLUMNS = [
  wp.trader,
  wp.mint,
  wp.slot,
  wp.txIndex,
  wp.blockTime,
  wp.boughtAmount,
  wp.soldAmount,
  wp.boughtUsd,
  wp.soldUsd,
  wp.realizedUsd,
  wp.qty,
  wp.cost,
];
const INSERT = `insert into ${wp.$table} (${COLUMNS.join(", ")})
     select * from unnest($1::text[], $2::text[], $3::int8[], $4::int4[], $5::timestamptz[], $6::numeric[],
       $7::numeric[], $8::numeric[], $9::numeric[], $10::numeric[], $11::numeric[], $12::numeric[])`;
const CLEAR = `delete from ${wp.$table} where ${wp.slot} > $1 and ${wp.slot} <= $2`;

/** A basis as stored: quantity raw, cost a decimal string. */
export type StoredPnlBasis = { trader: string; mint: string; qty: string; cost: string };

/** The basis of each (trader, mint) pair as of `slot` (pairs without a row there are left out). */
export async function pnlBases(
  client: pg.PoolClient,
  pairs: readonly { trader: string; mint: string }[],
  slot: number,
): Promise<StoredPnlBasis[]> {
  if (pairs.length === 0) return [];
  const r = await client.query<StoredPnlBasis>(BASES, [pairs.map((p) => p.trader), pairs.map((p) => p.mint), slot]);
  return r.rows;
}

/** Replaces the rows of slots in (`after`, `upTo`] with `rows` (columns as strings, in `wallet_pnl` order). */
export async function writePnlRows(
  client: pg.PoolClient,
  after: number,
  upTo: number,
  rows: {
    trader: string;
    mint: string;
    slot: number;
    txIndex: number;
    blockTime: string | null;
    boughtAmount: string;
    soldAmount: string;
    boughtUsd: string;
    soldUsd: string;
    realizedUsd: string;
    qty: string;
    cost: string;
  }[],
): Promise<void> {
  await client.query(CLEAR, [after, upTo]);
  if (rows.length === 0) return;
  const col = <K extends keyof (typeof rows)[number]>(k: K) => rows.map((r) => r[k]);
  await client.query(INSERT, [
    col("trader"),
    col("mint"),
    col("slot"),
    col("txIndex"),
    col("blockTime"),
    col("boughtAmount"),
    col("soldAmount"),
    col("boughtUsd"),
    col("soldUsd"),
    col("realizedUsd"),
    col("qty"),
    col("cost"),
  ]);
}
