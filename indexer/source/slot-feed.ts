/**
 * The slot feed: a web3.js v1 slot subscription with a watchdog. web3.js does not resubscribe after a close
 * with code 1000 and never reports a stall, so silence longer than `stallMs` recreates the connection.
 * Notifications only wake the ingest loop; the loop's own getBlocks range is what guarantees no gap.
 */
import { Connection, PublicKey } from "@solana/web3.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics.js";

/** A running feed. */
export type SlotFeed = { close(): Promise<void>; lastNotificationAt(): number; reconnects(): number };

/** Subscribes to slots; calls `onSlot` for every notification (duplicates included: the caller is idempotent). */
export function createSlotFeed(opts: {
  rpcUrl: string;
  wsUrl: string;
  stallMs: number;
  logger: Logger;
  metrics?: Pick<Metrics, "wsReconnects">;
  onSlot: (slot: number) => void;
  /** logs mode: one `mentions` logs subscription per program, recreated with the slot subscription */
  logs?: { programs: string[]; onLogs: (signature: string, slot: number) => void };
}): SlotFeed {
  let connection: Connection | undefined;
  let subscription: number | undefined;
  let logSubscriptions: number[] = [];
  let last = Date.now();
  let reconnects = 0;
  let closed = false;

  const connect = () => {
    connection = new Connection(opts.rpcUrl, { wsEndpoint: opts.wsUrl, commitment: "confirmed", disableRetryOnRateLimit: true });
    subscription = connection.onSlotChange((info) => {
      last = Date.now();
      opts.onSlot(info.slot);
    });
    const c = connection;
    logSubscriptions = (opts.logs?.programs ?? []).map((p) =>
      c.onLogs(new PublicKey(p), (l, ctx) => opts.logs!.onLogs(l.signature, ctx.slot), "confirmed"),
    );
  };

  const disconnect = async () => {
    const c = connection;
    const id = subscription;
    const logIds = logSubscriptions;
    connection = undefined;
    subscription = undefined;
    logSubscriptions = [];
    if (c && id !== undefined) await c.removeSlotChangeListener(id).catch(() => {});
    for (const l of logIds) await c?.removeOnLogsListener(l).catch(() => {});
    // web3.js keeps its socket for a while after the last listener goes; close it now so no stale socket remains.
    const ws = (c as unknown as { _rpcWebSocket?: { close(): void } } | undefined)?._rpcWebSocket;
    try {
      ws?.close();
    } catch {
      // already closed
    }
  };

  connect();
  const watchdog = setInterval(() => {
    if (closed || Date.now() - last < opts.stallMs) return;
    reconnects++;
    opts.metrics?.wsReconnects.inc({ reason: "silence" });
    opts.logger.warn({ silent_ms: Date.now() - last }, "slot feed silent; reconnecting");
    last = Date.now();
    void disconnect().then(() => {
      if (!closed) connect();
    });
  }, Math.max(250, Math.floor(opts.stallMs / 4)));
  watchdog.unref();

  return {
    async close() {
      closed = true;
      clearInterval(watchdog);
      await disconnect();
    },
    lastNotificationAt: () => last,
    reconnects: () => reconnects,
  };
}
