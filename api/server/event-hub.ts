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
import { eventsChannel } from "../../core/events.js";
import type { EventHub } from "../context.js";

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
  return { type: "batch", slots: e.slots, swaps, transactions };
}

/** Subscribes `subscriber` (a dedicated connection: it enters subscriber mode) to the channel of `prefix`. */
export function createEventHub(subscriber: Redis, prefix: string, logger: Logger): EventHub {
  const channel = eventsChannel(prefix);
  const listeners = new Set<(e: ChainEvent) => void>();
  let generation = "0";
  let since = 0;
  subscriber.on("message", (ch: string, message: string) => {
    if (ch !== channel) return;
    generation = createHash("sha1").update(message).digest("hex").slice(0, 12);
    since = performance.now();
    const event = parseChainEvent(message);
    if (!event) {
      logger.warn({ channel, bytes: message.length }, "malformed event ignored");
      return;
    }
    for (const l of listeners) l(event);
  });
  // ioredis re-subscribes by itself after a reconnect.
  const ready = subscriber.subscribe(channel).then(() => undefined);
  ready.catch((err) => logger.error({ err }, "event subscription failed"));
  return {
    ready,
    subscribe<T>(select: (e: ChainEvent) => readonly T[]) {
      return new Repeater<T>(async (push, stop) => {
        const l = (e: ChainEvent) => {
          for (const item of select(e)) void push(item);
        };
        listeners.add(l);
        await stop;
        listeners.delete(l);
      }, new SlidingBuffer(1000));
    },
    generation: () => generation,
    generationSince: () => since,
    async close() {
      listeners.clear();
      await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}
