/**
 * Subscription: swaps, transactions and slots pushed from the indexer's Redis events (Postgres is not polled),
 * over SSE or graphql-ws. Relations of a pushed item (pool, tokens, ...) load from Postgres when asked for.
 */
import { builder } from "./builder.js";
import type { RequestContext } from "../context.js";
import { apiError } from "../errors.js";
import type { ChainEvent, ChainEventSwap } from "../../core/events.js";
import type { SlotRecord, SwapRecord, TransactionRecord } from "../queries/index.js";
import { Slot, Swap, Transaction } from "./refs.js";

const SwapSubscriptionWhere = builder.inputType("SwapSubscriptionWhere", {
  fields: (t) => ({ pool: t.string(), trader: t.string(), mint: t.string({ description: "token in or out" }) }),
});

const TransactionSubscriptionWhere = builder.inputType("TransactionSubscriptionWhere", {
  fields: (t) => ({ program: t.string({ description: "a program the transaction invokes" }), success: t.boolean() }),
});

/**
 * Rows already made from an event's swaps: every subscriber of the event is pushed the same row, so that the
 * subscribers of one operation share its execution (api/server/shared-subscriptions.ts keys results by the item).
 */
const swapRows = new WeakMap<ChainEventSwap, SwapRecord>();

/** An event swap as a row (block time from unix seconds or ISO string); the same row for the same event swap. */
export function swapFromEvent(s: ChainEventSwap): SwapRecord {
  let row = swapRows.get(s);
  if (!row) swapRows.set(s, (row = toSwapRecord(s)));
  return row;
}

/** A pushed slot: one object per slot of an event, the same for every subscriber (as the swap rows above). */
type SlotItem = { slot: number };
const slotItems = new WeakMap<ChainEvent, SlotItem[]>();
const slotsOf = (e: ChainEvent): SlotItem[] => {
  let items = slotItems.get(e);
  if (!items) slotItems.set(e, (items = e.slots.map((slot) => ({ slot }))));
  return items;
};

function toSwapRecord(s: ChainEventSwap): SwapRecord {
  const bt =
    s.blockTime == null ? null : typeof s.blockTime === "number" ? new Date(s.blockTime * 1000) : new Date(s.blockTime);
  // a swap just stored is not priced yet: the pricing stage follows the resume point
  return { ...s, blockTime: bt && !Number.isNaN(bt.getTime()) ? bt : null, valueUsd: null };
}

function stream<T>(ctx: RequestContext, select: (e: ChainEvent) => readonly T[], name: string): AsyncIterable<T> {
  const hub = ctx.app.events;
  if (!hub) throw apiError("NOT_READY", "Subscriptions are not available on this server (no Redis events).");
  return hub.subscribe((e) => {
    const items = select(e);
    if (items.length) ctx.metrics.subscriptions.inc({ subscription: name }, items.length);
    return items;
  }, ctx.client);
}

/**
 * Each pushed item starts from nothing read: the subscription's context lives long, its data must not. What it reads
 * is shared with the other subscribers of the same event (one read of a pool for all who are pushed its swap).
 */
function fresh<T>(item: T, ctx: RequestContext): T {
  ctx.reset(ctx.app.events?.eventReads());
  return item;
}

builder.subscriptionType({
  fields: (t) => ({
    swaps: t.field({
      type: Swap,
      description: "Swaps as their blocks are stored.",
      args: { where: t.arg({ type: SwapSubscriptionWhere }) },
      subscribe: (_r, { where: w }, ctx) =>
        stream(
          ctx,
          (e) =>
            e.swaps
              .filter(
                (s) =>
                  (w?.pool == null || s.pool === w.pool) &&
                  (w?.trader == null || s.trader === w.trader) &&
                  (w?.mint == null || s.mintIn === w.mint || s.mintOut === w.mint),
              )
              .map(swapFromEvent),
          "swaps",
        ),
      resolve: (s: SwapRecord, _a, ctx) => fresh(s, ctx),
    }),
    transactions: t.field({
      type: Transaction,
      description:
        "Transactions as their blocks are stored (fields beyond signature, slot, programIds and success are read from Postgres).",
      args: { where: t.arg({ type: TransactionSubscriptionWhere }) },
      subscribe: (_r, { where: w }, ctx) =>
        stream(
          ctx,
          (e) =>
            e.transactions.filter(
              (x) =>
                (w?.program == null || x.programIds.includes(w.program)) &&
                (w?.success == null || x.success === w.success),
            ),
          "transactions",
        ),
      resolve: (x: TransactionRecord, _a, ctx) => fresh(x, ctx),
    }),
    slots: t.field({
      type: Slot,
      description: "Slots as they are stored.",
      subscribe: (_r, _a, ctx) => stream(ctx, slotsOf, "slots"),
      resolve: async ({ slot }: SlotItem, _a, ctx): Promise<SlotRecord> =>
        (await fresh(Slot, ctx).getDataloader(ctx).load(slot)) ?? {
          slot,
          status: "indexed",
          commitment: null,
          blockTime: null,
          parentSlot: null,
          blockhash: null,
          txCount: 0,
        },
    }),
  }),
});
