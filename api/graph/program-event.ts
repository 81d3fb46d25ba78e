/** ProgramEvent and LiquidityEvent: decoded Anchor instructions/events, and pool liquidity changes. */
import { builder } from "./builder.js";
import { ProgramEventKindEnum } from "./inputs.js";
import { LiquidityEvent, Pool, ProgramEvent, Transaction } from "./refs.js";

ProgramEvent.implement({
  description: "A decoded instruction, `Program data:` event or `emit_cpi!` event of an IDL-configured program.",
  fields: (t) => ({
    signature: t.exposeString("signature"),
    instructionPath: t.exposeString("instructionPath"),
    programId: t.exposeString("programId"),
    kind: t.expose("kind", { type: ProgramEventKindEnum }),
    name: t.exposeString("name"),
    ordinal: t.exposeInt("ordinal"),
    data: t.expose("data", { type: "JSON" }),
    slot: t.exposeInt("slot"),
    blockTime: t.expose("blockTime", { type: "DateTime", nullable: true }),
    transaction: t.field({ type: Transaction, nullable: true, resolve: (e) => e.signature }),
  }),
});

export const LiquidityKindEnum = builder.enumType("LiquidityKind", {
  values: { ADD: { value: "add" }, REMOVE: { value: "remove" } } as const,
});

LiquidityEvent.implement({
  description: "Liquidity added to or removed from a pool; amounts are the vaults' deltas.",
  fields: (t) => ({
    signature: t.exposeString("signature"),
    instructionPath: t.exposeString("instructionPath"),
    pool: t.field({ type: Pool, nullable: true, resolve: (e) => e.pool }),
    kind: t.expose("kind", { type: LiquidityKindEnum }),
    owner: t.exposeString("owner"),
    amountA: t.expose("amountA", { type: "BigInt" }),
    amountB: t.expose("amountB", { type: "BigInt" }),
    slot: t.exposeInt("slot"),
    blockTime: t.expose("blockTime", { type: "DateTime", nullable: true }),
  }),
});
