/**
 * The pricing stage's wallet PnL step: the range's trades, in chain order, walked from each (trader, mint) basis at
 * the cursor (pnl.ts), their rows written in the run's transaction.
 */
import type pg from "pg";
import { trades } from "../../schema/index.js";
import { pnlBases, sqlNames, writePnlRows } from "../store/index.js";
import { UNIT_SCALE, fromDecimal, toDecimal } from "./compute.js";
import { type PnlBasis, basisKey, walkPnl } from "./pnl.js";

const tr = sqlNames(trades);
const trRow = sqlNames(trades, "t");
const inRange = (col: string) => `${col} > $1 and ${col} <= $2`;
const time = (d: Date | null) => (d == null ? null : d.toISOString());

/** The range's trades with their values as stored, in chain order (the order average cost is walked in). */
const PNL_TRADES = `select ${trRow.trader} as trader, ${trRow.slot}::text as slot, ${trRow.txIndex} as tx_index,
       ${trRow.blockTime} as block_time, ${trRow.soldMint} as sold_mint, ${trRow.soldAmount}::text as sold_amount,
       ${trRow.boughtMint} as bought_mint, ${trRow.boughtAmount}::text as bought_amount, ${trRow.valueUsd}::text as value
     from ${tr.$table} t where ${inRange(trRow.slot)} order by ${trRow.slot}, ${trRow.txIndex}, ${trRow.trader}`;

/** Writes the wallet PnL rows of the range's trades, walked in chain order from each basis at `cursor`. */
export async function addToPnl(client: pg.PoolClient, cursor: number, upper: number): Promise<void> {
  const r = await client.query<Record<string, string | null> & { block_time: Date | null }>(PNL_TRADES, [
    cursor,
    upper,
  ]);
  const trades = r.rows.map((t) => ({
    trader: t.trader!,
    slot: Number(t.slot),
    txIndex: Number(t.tx_index),
    blockTime: t.block_time,
    soldMint: t.sold_mint!,
    soldAmount: BigInt(t.sold_amount!),
    boughtMint: t.bought_mint!,
    boughtAmount: BigInt(t.bought_amount!),
    valueUsd: t.value ?? null,
  }));
  const pairs = new Map<string, { trader: string; mint: string }>();
  for (const t of trades)
    for (const mint of [t.soldMint, t.boughtMint]) pairs.set(basisKey(t.trader, mint), { trader: t.trader, mint });
  const bases = new Map<string, PnlBasis>();
  for (const b of await pnlBases(client, [...pairs.values()], cursor))
    bases.set(basisKey(b.trader, b.mint), { qty: BigInt(b.qty), cost: fromDecimal(b.cost, UNIT_SCALE) });
  const rows = walkPnl(trades, bases).map((x) => ({
    ...x,
    blockTime: time(x.blockTime),
    boughtAmount: x.boughtAmount.toString(),
    soldAmount: x.soldAmount.toString(),
    boughtUsd: toDecimal(x.boughtUsd, UNIT_SCALE),
    soldUsd: toDecimal(x.soldUsd, UNIT_SCALE),
    realizedUsd: toDecimal(x.realizedUsd, UNIT_SCALE),
    qty: x.qty.toString(),
    cost: toDecimal(x.cost, UNIT_SCALE),
  }));
  await writePnlRows(client, cursor, upper, rows);
}
