/**
 * The slot feed: slot (and, in logs mode, `mentions` logs) subscriptions over Solana's PubSub WebSocket, with a
 * watchdog. It speaks the protocol directly over `ws` rather than through web3.js v1's Connection: web3.js does
 * not resubscribe after a close with code 1000, never reports a stall, and a discarded Connection keeps retrying
 * its unsubscribes in a tight loop (seen here: out of memory within a minute of 1000 closes). Here every close,
 * and any silence longer than `stallMs`, ends the socket and opens a new one that subscribes again.
 * Notifications only wake the ingest loop; the loop's own getBlocks range is what guarantees no gap.
 */
import WebSocket from "ws";
import type { Logger } from "../../core/logger.js";
import type { Metrics } from "../../core/metrics.js";

/** A running feed. */
export type SlotFeed = { close(): Promise<void>; reconnects(): number };

/** Subscribes to slots; calls `onSlot` for every notification (duplicates included: the caller is idempotent). */
export function createSlotFeed(opts: {
  rpcUrl: string;
  wsUrl: string;
  stallMs: number;
  logger: Logger;
  metrics?: Pick<Metrics, "wsReconnects">;
  onSlot: (slot: number) => void;
  /** logs mode: one `mentions` logs subscription per program, made again on every connection */
  logs?: { programs: string[]; onLogs: (signature: string, slot: number) => void };
}): SlotFeed {
  let socket: WebSocket | undefined;
  let last = Date.now();
  let reconnects = 0;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;

  const connect = () => {
    if (closed) return;
    const ws = new WebSocket(opts.wsUrl);
    socket = ws;
    ws.on("open", () => {
      last = Date.now();
      const requests: unknown[][] = [["slotSubscribe", []]];
      for (const p of opts.logs?.programs ?? [])
        requests.push(["logsSubscribe", [{ mentions: [p] }, { commitment: "confirmed" }]]);
      requests.forEach(([method, params], i) => ws.send(JSON.stringify({ jsonrpc: "2.0", id: i + 1, method, params })));
    });
    ws.on("message", (raw) => {
      let msg: {
        method?: string;
        params?: { result?: { slot?: number; context?: { slot: number }; value?: { signature?: string } } };
      };
      try {
        msg = JSON.parse(raw.toString());
      } catch {
        return; // not JSON: ignore, the getBlocks scan does not depend on it
      }
      if (msg.method === "slotNotification" && typeof msg.params?.result?.slot === "number") {
        last = Date.now();
        opts.onSlot(msg.params.result.slot);
      } else if (msg.method === "logsNotification") {
        const sig = msg.params?.result?.value?.signature;
        if (typeof sig === "string") opts.logs?.onLogs(sig, msg.params?.result?.context?.slot ?? 0);
      }
    });
    ws.on("error", (err) => opts.logger.debug({ err }, "pubsub socket error"));
    ws.on("close", (code) => {
      if (socket !== ws || closed) return;
      // Any close, 1000 included: connect again and subscribe again.
      reconnects++;
      opts.metrics?.wsReconnects.inc({ reason: `close_${code}` });
      opts.logger.warn({ code }, "pubsub socket closed; reconnecting");
      retryTimer = setTimeout(connect, 500);
    });
  };

  connect();
  const watchdog = setInterval(
    () => {
      if (closed || Date.now() - last < opts.stallMs) return;
      reconnects++;
      opts.metrics?.wsReconnects.inc({ reason: "silence" });
      opts.logger.warn({ silent_ms: Date.now() - last }, "slot feed silent; reconnecting");
      last = Date.now();
      const old = socket;
      socket = undefined;
      old?.removeAllListeners("close");
      old?.on("error", () => {});
      old?.terminate();
      connect();
    },
    Math.max(250, Math.floor(opts.stallMs / 4)),
  );
  watchdog.unref();

  return {
    async close() {
      closed = true;
      clearInterval(watchdog);
      clearTimeout(retryTimer);
      const s = socket;
      socket = undefined;
      s?.removeAllListeners("close");
      s?.on("error", () => {});
      s?.terminate();
    },
    reconnects: () => reconnects,
  };
}
