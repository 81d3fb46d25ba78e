/** Slot: a slot marker (indexed, skipped or rolled back). */
import { builder } from "./builder.js";
import { Slot } from "./refs.js";

Slot.implement({
  description: "A slot as stored: indexed (its rows are stored), skipped, or rolled back.",
  fields: (t) => ({
    slot: t.exposeInt("slot"),
    status: t.exposeString("status"),
    commitment: t.exposeString("commitment", { nullable: true }),
    blockTime: t.expose("blockTime", { type: "DateTime", nullable: true }),
    parentSlot: t.exposeInt("parentSlot", { nullable: true }),
    blockhash: t.exposeString("blockhash", { nullable: true }),
    txCount: t.exposeInt("txCount", { description: "transactions in the block, votes included" }),
  }),
});

builder.queryField("slot", (t) =>
  t.field({ type: Slot, nullable: true, args: { slot: t.arg.int({ required: true }) }, resolve: (_r, a) => a.slot }),
);
