/** Reads of `token_transfers`. */
import type { Reader } from "../sql/reader.js";
import { type Columns, type ListSpec, selectAll } from "../sql/page.js";
import { type Fragment, raw, sql } from "../sql/sql.js";
import { BY_INSTRUCTION, type SlotRange, type TimeRange, rangeFilters } from "./common.js";

/** A token movement as the API reads it. */
export type TransferRow = {
  signature: string;
  instructionPath: string;
  kind: "transfer" | "mint" | "burn";
  mint: string;
  source: string | null;
  destination: string | null;
  sourceOwner: string | null;
  destinationOwner: string | null;
  amount: string;
  fee: string;
  slot: number;
  txIndex: number;
  blockTime: Date | null;
};

const COLUMNS: Columns = {
  sql: {
    signature: "t.signature",
    instructionPath: "t.instruction_path",
    kind: "t.kind",
    mint: "t.mint",
    source: "t.source",
    destination: "t.destination",
    sourceOwner: "t.source_owner",
    destinationOwner: "t.destination_owner",
    amount: "t.amount",
    fee: "t.fee",
    slot: "t.slot",
    txIndex: "t.tx_index",
    blockTime: "t.block_time",
  },
  // the fields of the Transfer type (types/transfer.ts) that read other properties than the one they are named after
  fields: {
    token: ["mint"],
    amountUi: ["mint", "amount"],
    transaction: ["signature"],
  },
};

const SELECT = selectAll(COLUMNS.sql);

/** The transfers list; chronological. */
export const TRANSFERS: ListSpec = {
  from: "token_transfers t",
  select: SELECT,
  orders: { SLOT: BY_INSTRUCTION },
  columns: COLUMNS,
};

/** Filters of `transfers(where:)`. `account` matches a token account or its owner on either side. */
export type TransferWhere = {
  mint?: string | null;
  account?: string | null;
  kind?: "transfer" | "mint" | "burn" | null;
  signature?: string | null;
  slot?: SlotRange | null;
  blockTime?: TimeRange | null;
};

/** The condition "this address is on either side of the transfer, as token account or owner". */
export function involves(ref: Fragment): Fragment {
  return sql`(t.source_owner = ${ref} or t.destination_owner = ${ref} or t.source = ${ref} or t.destination = ${ref})`;
}

/** SQL conditions for a TransferWhere. */
export function transferFilters(w: TransferWhere | null | undefined): Fragment[] {
  const out: Fragment[] = [];
  if (w?.mint != null) out.push(sql`t.mint = ${w.mint}`);
  if (w?.account != null) out.push(involves(sql`${w.account}::text`));
  if (w?.kind != null) out.push(sql`t.kind = ${w.kind}`);
  if (w?.signature != null) out.push(sql`t.signature = ${w.signature}`);
  out.push(...rangeFilters("t.slot", w?.slot, "int8"), ...rangeFilters("t.block_time", w?.blockTime, "timestamptz"));
  return out;
}

/** Every transfer of each transaction, in instruction order, in one statement. */
export function transfersBySignature(reader: Reader, signatures: readonly string[]): Promise<TransferRow[]> {
  return reader.rows<TransferRow>(
    sql`select ${raw(SELECT)} from token_transfers t where t.signature = any(${signatures}::text[]) order by t.signature, string_to_array(t.instruction_path, '.')::int[]`,
  );
}
