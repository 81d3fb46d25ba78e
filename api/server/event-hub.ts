/**
 * The indexer -> API event contract over Redis, and the hub that fans one Redis subscription out to every
 * GraphQL subscriber of this process.
 * @dev CONTRACT with the indexer: after each stored batch it PUBLISHes one ChainEvent (JSON) on
 * `${QUEUE_PREFIX}:events`, and keeps the hash `${QUEUE_PREFIX}:status` up to date. Each API process holds its
 * own subscription, so any number of them can run behind a load balancer; Postgres is never polled.
 */
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { Repeater, SlidingBuffer } from "graphql-yoga";
import type { Logger } from "../../core/logger.js";
import type { ChainEvent, ChainEventSwap, ChainEventTransaction } from "../../core/events.js";
import { eventsChannel, parseLsn } from "../../core/events.js";
import type { EventHub } from "../context.js";
import { apiError } from "../errors.js";
import { type StatementMemo, createStatementMemo } from "../sql/index.js";

export type { ChainEvent, ChainEventSwap, ChainEventTransaction, IndexerStatusHash } from "../../core/events.js";
export { eventsChannel, statusKey } from "../../core/events.js";
export type { EventHub } from "../context.js";

const isStr = (v: unknown): v is string => typeof v === "string";
const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
const isAmount = (v: unknown): v is string => isStr(v) && /^\d{1,40}$/.test(v);

/** Parses and checks a message; null for anything malformed (logged by the hub, never delivered). */
export function parseChainEvent(message: string): ChainEvent | null {
  let v: unknown;
  try {
    v = JSON.parse(message);
  } catch {
    return null;
  }
  const e = v as Partial<ChainEvent>;
  if (!e || e.type !== "batch" || !Array.isArray(e.slots) || !e.slots.every(isInt)) return null;
  const swaps = e.swaps ?? [];
  const transactions = e.transactions ?? [];
  if (!Array.isArray(swaps) || !Array.isArray(transactions)) return null;
  const swapOk = (s: ChainEventSwap) =>
    s &&
    [s.signature, s.instructionPath, s.pool, s.trader, s.mintIn, s.mintOut].every(isStr) &&
    isAmount(s.amountIn) &&
    isAmount(s.amountOut) &&
    isInt(s.slot) &&
    (s.blockTime == null || isInt(s.blockTime) || isStr(s.blockTime));
  const txOk = (t: ChainEventTransaction) =>
    t &&
    isStr(t.signature) &&
    isInt(t.slot) &&
    Array.isArray(t.programIds) &&
    t.programIds.every(isStr) &&
    typeof t.success === "boolean";
  if (!swaps.every(swapOk) || !transactions.every(txOk)) return null;
  if (e.lsn !== undefined && (!isStr(e.lsn) || parseLsn(e.lsn) === null)) return null;
  return { type: "batch", slots: e.slots, swaps, transactions, ...(e.lsn ? { lsn: e.lsn } : {}) };
}

/**
 * Subscribers handed an event per turn of the event loop: what a push sets off (an execution, a write) runs before the
 * next turn, so an event reaching thousands of subscribers lets the requests waiting meanwhile in between slices.
 */
const FANOUT_SLICE = 50;

/** Caps on the subscriptions one process serves (API_MAX_SUBSCRIPTIONS, API_SUBSCRIPTIONS_PER_CLIENT). */
export type SubscriptionLimits = { total: number; perClient: number };

/** Defaults of the caps: a dashboard holds a handful; a process serves thousands. */
export const DEFAULT_SUBSCRIPTION_LIMITS: SubscriptionLimits = { total: 10_000, perClient: 20 };

/**
 * Subscribes `subscriber` (a dedicated connection: it enters subscriber mode) to the channel of `prefix`; `onEvent`
 * sees each well-formed event first, in the turn its generation begins.
 * @dev each open stream counts against its client's cap and the process' until it ends; past the client's,
 * `subscribe` throws RATE_LIMITED, past the process', OVERLOADED, before anything is held (a stream costs a buffer of
 * up to 1,000 items and a context).
 */
export function createEventHub(
  subscriber: Redis,
  prefix: string,
  logger: Logger,
  limits: SubscriptionLimits = DEFAULT_SUBSCRIPTION_LIMITS,
  onEvent?: (e: ChainEvent) => void,
): EventHub {
  const channel = eventsChannel(prefix);
  const listeners = new Set<(e: ChainEvent) => void>();
  const perClient = new Map<string, number>();
  let open = 0;
  /** Counts a stream of `client`, or throws; returns its release (idempotent). */
  const admit = (client: string): (() => void) => {
    const mine = perClient.get(client) ?? 0;
    if (open >= limits.total)
      throw apiError("OVERLOADED", "This server holds as many subscriptions as it can; retry later.");
    if (mine >= limits.perClient)
      throw apiError("RATE_LIMITED", `A client may hold at most ${limits.perClient} subscriptions.`);
    open++;
    perClient.set(client, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      open--;
      const n = (perClient.get(client) ?? 1) - 1;
      if (n > 0) perClient.set(client, n);
      else perClient.delete(client);
    };
  };
  let generation = "0";
  let since = 0;
  let reads: StatementMemo | undefined;
  // Events still being handed out, oldest first: every subscriber gets them in the order they arrived.
  const backlog: { event: ChainEvent; to: ((e: ChainEvent) => void)[]; next: number }[] = [];
  let draining = false;
  const drain = () => {
    let budget = FANOUT_SLICE;
    while (backlog.length && budget > 0) {
      const head = backlog[0]!;
      while (head.next < head.to.length && budget-- > 0) {
        const l = head.to[head.next++]!;
        // a subscriber gone since the event arrived is not handed it
        if (listeners.has(l)) l(head.event);
      }
      if (head.next >= head.to.length) backlog.shift();
    }
    if (backlog.length) setImmediate(drain);
    else draining = false;
  };
  subscriber.on("message", (ch: string, message: string) => {
    if (ch !== channel) return;
    generation = createHash("sha1").update(message).digest("hex").slice(0, 12);
    since = performance.now();
    // per message, not per generation: the same event published again is read again
    reads = undefined;
    const event = parseChainEvent(message);
    if (!event) {
      logger.warn({ channel, bytes: message.length }, "malformed event ignored");
      return;
    }
    // before any listener reads for it, and in the same turn as the generation changed (read replicas' floor)
    onEvent?.(event);
    backlog.push({ event, to: [...listeners], next: 0 });
    if (!draining) {
      draining = true;
      drain();
    }
  });
  // ioredis re-subscribes by itself after a reconnect.
  const ready = subscriber.subscribe(channel).then(() => undefined);
  ready.catch((err) => logger.error({ err }, "event subscription failed"));
  return {
    ready,
    subscribe<T>(select: (e: ChainEvent) => readonly T[], client = "unknown") {
      const release = admit(client);
      const stream = new Repeater<T>(async (push, stop) => {
        const l = (e: ChainEvent) => {
          for (const item of select(e)) void push(item);
        };
        listeners.add(l);
        await stop;
        listeners.delete(l);
        release();
      }, new SlidingBuffer(1000));
      // A stream ended before its first read never runs its executor: it is released on return or throw too.
      const { return: end, throw: fail } = stream;
      stream.return = (v) => (release(), end.call(stream, v));
      stream.throw = (e) => (release(), fail.call(stream, e));
      return stream;
    },
    subscriptions: () => ({ open, clients: perClient.size }),
    generation: () => generation,
    eventReads: () => (reads ??= createStatementMemo()),
    generationSince: () => since,
    async close() {
      listeners.clear();
      backlog.length = 0;
      await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}
