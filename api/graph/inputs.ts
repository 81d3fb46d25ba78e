/** Input types shared by the lists: ranges, order direction, each list's `where` and `orderBy`. */
import { builder } from "./builder.js";
import type { ListSpec, Order } from "../sql/index.js";

export const OrderDirection = builder.enumType("OrderDirection", { values: ["ASC", "DESC"] as const });

export const SlotRangeInput = builder.inputType("SlotRange", {
  description: "Inclusive slot bounds.",
  fields: (t) => ({ gte: t.int(), lte: t.int() }),
});

export const TimeRangeInput = builder.inputType("TimeRange", {
  description: "Inclusive block-time bounds.",
  fields: (t) => ({ gte: t.field({ type: "DateTime" }), lte: t.field({ type: "DateTime" }) }),
});

/** Declares `<Name>OrderField`, and `<Name>Order { field, direction }` with defaults. */
function orderInput<const F extends readonly [string, ...string[]]>(
  name: string,
  fields: F,
  defaults: { field: F[number]; direction: "ASC" | "DESC" },
) {
  const Field = builder.enumType(`${name}OrderField`, { values: fields });
  return builder.inputType(`${name}Order`, {
    fields: (t) => ({
      field: t.field({ type: Field, required: true, defaultValue: defaults.field as never }),
      direction: t.field({ type: OrderDirection, required: true, defaultValue: defaults.direction }),
    }),
  });
}

export const TokenOrderInput = orderInput("Token", ["FIRST_SEEN_SLOT", "MINT"] as const, {
  field: "FIRST_SEEN_SLOT",
  direction: "DESC",
});
export const PoolOrderInput = orderInput("Pool", ["LAST_SWAP_SLOT", "FIRST_SEEN_SLOT", "ADDRESS"] as const, {
  field: "LAST_SWAP_SLOT",
  direction: "DESC",
});
/** Lists in chain order: the only field is SLOT (slot, position in block, instruction). */
export const ChainOrderInput = orderInput("Chain", ["SLOT"] as const, { field: "SLOT", direction: "DESC" });

/** Picks the ordering for a request (defaults when orderBy is absent). */
export function resolveOrder(
  spec: ListSpec,
  orderBy: { field: string; direction: string } | null | undefined,
  def: { field: string; desc: boolean },
): Order {
  const field = orderBy?.field ?? def.field;
  const o = spec.orders[field];
  if (!o) throw new Error(`no ordering ${field}`);
  return { spec: o, desc: orderBy ? orderBy.direction === "DESC" : def.desc };
}

export const TokenProgramEnum = builder.enumType("TokenProgram", {
  values: { SPL_TOKEN: { value: "spl-token" }, TOKEN_2022: { value: "token-2022" } } as const,
});

export const TransferKindEnum = builder.enumType("TransferKind", {
  values: { TRANSFER: { value: "transfer" }, MINT: { value: "mint" }, BURN: { value: "burn" } } as const,
});

export const ProgramEventKindEnum = builder.enumType("ProgramEventKind", {
  values: {
    INSTRUCTION: { value: "instruction" },
    EVENT: { value: "event" },
    CPI_EVENT: { value: "cpi_event" },
  } as const,
});

export const TokenWhereInput = builder.inputType("TokenWhere", {
  fields: (t) => ({
    mints: t.stringList(),
    symbol: t.string(),
    program: t.field({ type: TokenProgramEnum }),
    minLiquidityUsd: t.string({
      description: "with `ranking` only: liquidity in USD (tokens: its pools' TVL; pools: TVL) at least this decimal",
    }),
    createdAfter: t.field({
      type: "DateTime",
      description: "with `ranking` only: first seen in a block after this time",
    }),
    dex: t.string({ description: "with `ranking` only: a DEX one of its pools is on" }),
  }),
});

export const PoolWhereInput = builder.inputType("PoolWhere", {
  fields: (t) => ({
    dex: t.string({ description: "DEX name (raydium-amm-v4, orca-whirlpool, ...)" }),
    mint: t.string({ description: "either side of the pool" }),
    tokenA: t.string(),
    tokenB: t.string(),
    addresses: t.stringList(),
    minLiquidityUsd: t.string({
      description: "with `ranking` only: liquidity in USD (tokens: its pools' TVL; pools: TVL) at least this decimal",
    }),
    createdAfter: t.field({
      type: "DateTime",
      description: "with `ranking` only: first seen in a block after this time",
    }),
  }),
});

export const SwapWhereInput = builder.inputType("SwapWhere", {
  fields: (t) => ({
    pool: t.string(),
    trader: t.string(),
    mint: t.string({ description: "token in or out" }),
    dex: t.string(),
    signature: t.string(),
    slot: t.field({ type: SlotRangeInput }),
    blockTime: t.field({ type: TimeRangeInput }),
  }),
});

export const TransferWhereInput = builder.inputType("TransferWhere", {
  fields: (t) => ({
    mint: t.string(),
    account: t.string({ description: "token account or owner, on either side" }),
    kind: t.field({ type: TransferKindEnum }),
    signature: t.string(),
    slot: t.field({ type: SlotRangeInput }),
    blockTime: t.field({ type: TimeRangeInput }),
  }),
});

export const TransactionWhereInput = builder.inputType("TransactionWhere", {
  fields: (t) => ({
    program: t.string({ description: "a program the transaction invokes" }),
    account: t.string({ description: "fee payer, swap trader, or either side of a transfer" }),
    feePayer: t.string(),
    success: t.boolean(),
    slot: t.field({ type: SlotRangeInput }),
    blockTime: t.field({ type: TimeRangeInput }),
  }),
});

export const ProgramEventWhereInput = builder.inputType("ProgramEventWhere", {
  fields: (t) => ({
    programId: t.string(),
    name: t.string(),
    kind: t.field({ type: ProgramEventKindEnum }),
    slot: t.field({ type: SlotRangeInput }),
  }),
});

export const TradeWhereInput = builder.inputType("TradeWhere", {
  fields: (t) => ({
    trader: t.string(),
    mint: t.string({ description: "token sold or bought" }),
    signature: t.string(),
    slot: t.field({ type: SlotRangeInput }),
    blockTime: t.field({ type: TimeRangeInput }),
  }),
});
