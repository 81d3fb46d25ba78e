/**
 * BalanceChange and the `balanceChanges` subscription: an address's token and SOL balances as each stored slot left
 * them, pushed on the indexer's events.
 * @dev an event names its slots, not its balances: each API process keeps the owners and addresses its balance
 * subscribers watch, and on each event reads the change logs of the event's slots for all of them in one statement
 * (the first subscriber to reach the event sends it; the others wait on the same promise), then hands each subscriber
 * its own rows.
 */
import { Repeater } from "graphql-yoga";
import { builder } from "./builder.js";
import type { EventHub, RequestContext } from "../context.js";
import type { ChainEvent } from "../../core/events.js";
import { apiError } from "../errors.js";
import { formatUnits } from "./format.js";
import { type BalanceChangeRecord, balanceChangesOf } from "../queries/index.js";
import { TokenProgramEnum } from "./inputs.js";
import { BalanceChange, Token } from "./refs.js";
import { uiAmount } from "./swap.js";

const SOL_DECIMALS = 9;

/** What one process's balance subscribers watch, and the read of each event (one for all of them). */
type Watch = {
  owners: Map<string, number>;
  addresses: Map<string, number>;
  reads: WeakMap<ChainEvent, Promise<BalanceChangeRecord[]>>;
};

/** Per event hub (one per API process): never module-wide state shared by two APIs in one process. */
const watches = new WeakMap<EventHub, Watch>();

function watchOf(hub: EventHub): Watch {
  let w = watches.get(hub);
  if (!w) watches.set(hub, (w = { owners: new Map(), addresses: new Map(), reads: new WeakMap() }));
  return w;
}

/** Counts `key` in `m` until the returned release is called. */
function hold(m: Map<string, number>, key: string): () => void {
  m.set(key, (m.get(key) ?? 0) + 1);
  return () => {
    const n = (m.get(key) ?? 1) - 1;
    if (n > 0) m.set(key, n);
    else m.delete(key);
  };
}

/** The changes of `e`'s slots for every key watched when the first subscriber reaches it, read once. */
function changesOf(w: Watch, e: ChainEvent, ctx: RequestContext): Promise<BalanceChangeRecord[]> {
  let p = w.reads.get(e);
  if (!p) {
    p = balanceChangesOf(ctx.sharedReader(), e.slots, [...w.owners.keys()], [...w.addresses.keys()]);
    w.reads.set(e, p);
  }
  return p;
}

type Where = { owner?: string | null; address?: string | null };

const matches = (w: Where, c: BalanceChangeRecord) =>
  w.owner != null ? (c.kind === "sol" ? c.address : c.owner) === w.owner : c.address === w.address;

/**
 * The changes `where` picks from each event from now on. A subscriber leaving stops its stream and releases its keys;
 * a failed read ends the stream with its error (the client subscribes again).
 */
function balanceStream(ctx: RequestContext, where: Where): AsyncIterable<BalanceChangeRecord> {
  const hub = ctx.app.events;
  if (!hub) throw apiError("NOT_READY", "Subscriptions are not available on this server (no Redis events).");
  if ((where.owner == null) === (where.address == null))
    throw apiError("BAD_USER_INPUT", "balanceChanges takes exactly one of where.owner and where.address.");
  // Admitted (or refused) now, against the same caps as every subscription.
  const events = hub.subscribe((e) => (e.slots.length > 0 ? [e] : []), ctx.client);
  const w = watchOf(hub);
  return new Repeater<BalanceChangeRecord>(async (push, stop) => {
    const release = where.owner != null ? hold(w.owners, where.owner) : hold(w.addresses, where.address!);
    stop.then(() => events.return?.());
    try {
      for await (const e of events) {
        const mine = (await changesOf(w, e, ctx)).filter((c) => matches(where, c));
        if (mine.length) ctx.metrics.subscriptions.inc({ subscription: "balanceChanges" }, mine.length);
        for (const c of mine) await push(c);
      }
    } finally {
      release();
    }
    stop();
  });
}

export const BalanceKindEnum = builder.enumType("BalanceKind", {
  values: { TOKEN: { value: "token" }, SOL: { value: "sol" } } as const,
});

const BalanceChangeWhere = builder.inputType("BalanceChangeWhere", {
  description: "Exactly one of the two.",
  fields: (t) => ({
    owner: t.string({ description: "the token accounts this address owns, and its own SOL" }),
    address: t.string({ description: "one token account, or one wallet's SOL" }),
  }),
});

BalanceChange.implement({
  description: "A balance as a stored slot left it (after the slot's last transaction touching it).",
  fields: (t) => ({
    kind: t.expose("kind", { type: BalanceKindEnum }),
    address: t.exposeString("address", { description: "the token account, or the wallet (SOL)" }),
    owner: t.exposeString("owner", { nullable: true, description: "the token account's owner; the wallet (SOL)" }),
    mint: t.exposeString("mint", { nullable: true, description: "null for SOL" }),
    token: t.field({ type: Token, nullable: true, resolve: (c) => c.mint }),
    program: t.expose("program", { type: TokenProgramEnum, nullable: true }),
    amount: t.expose("amount", { type: "BigInt", description: "token amount, or lamports (SOL)" }),
    amountUi: t.string({
      nullable: true,
      description: "amount with the token's decimals (SOL: 9) applied",
      resolve: (c, _a, ctx) => (c.mint == null ? formatUnits(c.amount, SOL_DECIMALS) : uiAmount(ctx, c.mint, c.amount)),
    }),
    closed: t.exposeBoolean("closed"),
    slot: t.exposeInt("slot"),
    txIndex: t.exposeInt("txIndex"),
  }),
});

builder.subscriptionFields((t) => ({
  balanceChanges: t.field({
    type: BalanceChange,
    description: "Balances of an owner's token accounts and SOL, or of one address, as their slots are stored.",
    args: { where: t.arg({ type: BalanceChangeWhere, required: true }) },
    subscribe: (_r, { where }, ctx) => balanceStream(ctx, where),
    resolve: (c: BalanceChangeRecord, _a, ctx) => {
      // Each pushed change starts from nothing read; its token is read once for every subscriber it reaches.
      ctx.reset(ctx.app.events?.eventReads());
      return c;
    },
  }),
}));
