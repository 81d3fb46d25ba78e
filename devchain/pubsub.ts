/**
 * The PubSub WebSocket: slot, root, logs and signature subscriptions at each commitment, with the
 * WebSocket faults (drops, stalls, duplicate slot and logs notifications, notifications reordered within a
 * window of slots).
 * @dev Subscription ids are node-global, start at 0 and are shared by identical params, as in
 * Agave's SubscriptionControl. Notifications carry `context: {slot}` only. Client notifications
 * without an id (web3.js's `ping`) get no reply.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";
import type { Faults } from "./faults.js";
import type { BlockRecord, Commitment, Ledger } from "./ledger.js";
import { errJson, logsJson } from "./tx-record.js";

type LogsFilter = { kind: "all" } | { kind: "allWithVotes" } | { kind: "mentions"; address: string };
type Sub =
  | { kind: "slot" }
  | { kind: "root" }
  | { kind: "logs"; commitment: Commitment; filter: LogsFilter }
  | { kind: "signature"; commitment: Commitment; signature: string; received: boolean };

type Entry = { id: number; key: string; sub: Sub; holders: Set<WebSocket> };

const MAX_BUFFERED = 64 * 1024 * 1024;

/** Counters tests and benchmarks read. */
export type PubSubStats = {
  connections: number;
  subscribes: number;
  notifications: number;
  drops: number;
  stalledFrames: number;
};

/** Creates the PubSub server (attach with `handleUpgrade`). */
export function createPubSub(deps: { ledger: Ledger; faults: Faults }) {
  const { ledger, faults } = deps;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const byKey = new Map<string, Entry>();
  const byId = new Map<number, Entry>();
  const owned = new Map<WebSocket, Set<number>>();
  let nextId = 0;
  const stats: PubSubStats = { connections: 0, subscribes: 0, notifications: 0, drops: 0, stalledFrames: 0 };

  const reply = (ws: WebSocket, id: unknown, body: string): void => {
    if (ws.readyState === WebSocket.OPEN) ws.send(`{"jsonrpc":"2.0",${body},"id":${JSON.stringify(id ?? null)}}`);
  };

  const notify = (e: Entry, method: string, result: string, times = 1): void => {
    const frame = `{"jsonrpc":"2.0","method":"${method}","params":{"result":${result},"subscription":${e.id}}}`;
    for (const ws of e.holders) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (faults.stalled()) {
        stats.stalledFrames++;
        continue;
      }
      if (ws.bufferedAmount > MAX_BUFFERED) {
        // Agave disconnects a client that lags behind its notification queue.
        ws.terminate();
        continue;
      }
      for (let i = 0; i < times; i++) ws.send(frame);
      stats.notifications += times;
    }
  };

  const remove = (e: Entry, ws: WebSocket): void => {
    e.holders.delete(ws);
    owned.get(ws)?.delete(e.id);
    if (e.holders.size === 0) {
      byKey.delete(e.key);
      byId.delete(e.id);
    }
  };

  const parseCommitment = (cfg: unknown): Commitment => {
    const c = (cfg as { commitment?: unknown } | undefined)?.commitment;
    if (c === "processed" || c === "recent") return "processed";
    if (c === "confirmed" || c === "single" || c === "singleGossip") return "confirmed";
    if (c === undefined || c === null || c === "finalized" || c === "max" || c === "root") return "finalized";
    throw new Error(`Invalid params: unknown variant \`${String(c)}\``);
  };

  const parseSub = (method: string, params: unknown[]): Sub => {
    switch (method) {
      case "slotSubscribe":
        return { kind: "slot" };
      case "rootSubscribe":
        return { kind: "root" };
      case "logsSubscribe": {
        const f = params[0];
        let filter: LogsFilter;
        if (f === "all") filter = { kind: "all" };
        else if (f === "allWithVotes") filter = { kind: "allWithVotes" };
        else if (typeof f === "object" && f !== null && Array.isArray((f as { mentions?: unknown }).mentions)) {
          const m = (f as { mentions: unknown[] }).mentions;
          if (m.length !== 1 || typeof m[0] !== "string") throw new Error("Invalid Request: Only 1 address supported");
          filter = { kind: "mentions", address: m[0] };
        } else throw new Error('Invalid params: expected "all", "allWithVotes" or {"mentions":[address]}');
        return { kind: "logs", commitment: parseCommitment(params[1]), filter };
      }
      case "signatureSubscribe": {
        if (typeof params[0] !== "string") throw new Error("Invalid params: expected a signature string");
        const cfg = params[1] as { enableReceivedNotification?: unknown } | undefined;
        return {
          kind: "signature",
          commitment: parseCommitment(cfg),
          signature: params[0],
          received: cfg?.enableReceivedNotification === true,
        };
      }
      default:
        throw Object.assign(new Error("Method not found"), { code: -32601 });
    }
  };

  const signatureResult = (slot: number, err: string): string => `{"context":{"slot":${slot}},"value":{"err":${err}}}`;

  /** Fires a signature subscription if its transaction is already visible at its commitment. */
  const checkSignature = (e: Entry): void => {
    if (e.sub.kind !== "signature") return;
    const loc = ledger.find(e.sub.signature);
    if (!loc || loc.block.slot > ledger.slotAt(e.sub.commitment)) return;
    notify(e, "signatureNotification", signatureResult(loc.block.slot, errJson(loc.view.rec)));
    for (const ws of [...e.holders]) remove(e, ws);
  };

  const onMessage = (ws: WebSocket, data: string): void => {
    let msg: { id?: unknown; method?: unknown; params?: unknown };
    try {
      msg = JSON.parse(data);
    } catch {
      reply(ws, null, '"error":{"code":-32700,"message":"Parse error"}');
      return;
    }
    if (typeof msg !== "object" || msg === null) return;
    if (!("id" in msg)) return; // notifications (web3.js ping) get no answer
    const method = typeof msg.method === "string" ? msg.method : "";
    const params = Array.isArray(msg.params) ? msg.params : [];
    if (method.endsWith("Unsubscribe")) {
      const id = params[0];
      const e = typeof id === "number" ? byId.get(id) : undefined;
      if (!e || !e.holders.has(ws) || method !== `${e.sub.kind}Unsubscribe`) {
        reply(ws, msg.id, '"error":{"code":-32602,"message":"Invalid subscription id."}');
        return;
      }
      remove(e, ws);
      reply(ws, msg.id, '"result":true');
      return;
    }
    let sub: Sub;
    try {
      sub = parseSub(method, params);
    } catch (err) {
      const code = (err as { code?: number }).code ?? -32602;
      reply(ws, msg.id, `"error":${JSON.stringify({ code, message: (err as Error).message })}`);
      return;
    }
    const key = JSON.stringify(sub);
    let e = byKey.get(key);
    if (!e) {
      e = { id: nextId++, key, sub, holders: new Set() };
      byKey.set(key, e);
      byId.set(e.id, e);
    }
    e.holders.add(ws);
    owned.get(ws)?.add(e.id);
    stats.subscribes++;
    reply(ws, msg.id, `"result":${e.id}`);
    if (sub.kind === "signature") {
      if (sub.received && ledger.find(sub.signature)) {
        const frame = `{"jsonrpc":"2.0","method":"signatureNotification","params":{"result":{"context":{"slot":${ledger.state.processed}},"value":"receivedSignature"},"subscription":${e.id}}}`;
        ws.send(frame);
      }
      checkSignature(e);
    }
  };

  wss.on("connection", (ws: WebSocket) => {
    stats.connections++;
    owned.set(ws, new Set());
    ws.on("message", (data, isBinary) => {
      if (isBinary) {
        ws.close(1003);
        return;
      }
      onMessage(ws, data.toString());
    });
    ws.on("close", () => {
      for (const id of owned.get(ws) ?? []) {
        const e = byId.get(id);
        if (e) remove(e, ws);
      }
      owned.delete(ws);
    });
    ws.on("error", () => ws.terminate());
  });

  // reorderSlots: each slot's slot and logs notifications are held as one group; once `window` groups are held
  // they go out in a shuffled order (the notifications of one slot keep their own order).
  const window = faults.spec.reorderSlots;
  let held: (() => void)[][] = [];
  let current: (() => void)[] | null = null;
  const emit = (fn: () => void): void => {
    if (window > 1 && current) current.push(fn);
    else fn();
  };
  const inGroup = (fn: () => void): void => {
    if (window <= 1) return fn();
    current = [];
    try {
      fn();
    } finally {
      if (current.length) held.push(current);
      current = null;
    }
    if (held.length >= window) {
      const out = faults.shuffle(held);
      held = [];
      for (const g of out) for (const f of g) f();
    }
  };

  const logsFor = (b: BlockRecord, c: Commitment): void => {
    for (const e of byKey.values()) {
      if (e.sub.kind !== "logs" || e.sub.commitment !== c) continue;
      const f = e.sub.filter;
      const idxs = f.kind === "mentions" ? ledger.matchIn(b, f.address) : null;
      const n = idxs ? idxs.length : ledger.txCount(b);
      for (let k = 0; k < n; k++) {
        const v = ledger.txAt(b, idxs ? idxs[k]! : k);
        if (f.kind === "all" && v.rec.isVote) continue;
        const result = `{"context":{"slot":${b.slot}},"value":{"signature":"${v.signatures[0]}","err":${errJson(v.rec)},"logs":${logsJson(v.rec)}}}`;
        const times = faults.dupLog() ? 2 : 1;
        emit(() => notify(e, "logsNotification", result, times));
      }
    }
  };

  const signaturesAt = (c: Commitment): void => {
    for (const e of [...byKey.values()]) if (e.sub.kind === "signature" && e.sub.commitment === c) checkSignature(e);
  };

  let dropCount = 0;
  let dropTimer: NodeJS.Timeout | undefined;
  /** Closes every connection: abnormally (TCP reset, client sees 1006) or with code 1000. */
  const dropAll = (mode: "abnormal" | "1000"): void => {
    stats.drops++;
    for (const ws of wss.clients) {
      if (mode === "abnormal") ws.terminate();
      else ws.close(1000, "closed by server");
    }
  };
  if (faults.spec.wsDropEvery > 0) {
    dropTimer = setInterval(() => {
      const m = faults.spec.wsDropCode;
      dropAll(m === "alternate" ? (dropCount++ % 2 === 0 ? "abnormal" : "1000") : m);
    }, faults.spec.wsDropEvery);
    dropTimer.unref();
  }

  return {
    stats,
    /** Accepts an HTTP upgrade request as a PubSub connection. */
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
    },
    /** A new slot began (bank created): slot notifications, processed logs and signatures. */
    slotCreated(b: BlockRecord): void {
      const root = ledger.state.finalized;
      inGroup(() => {
        for (const e of byKey.values()) {
          if (e.sub.kind !== "slot") continue;
          const frame = `{"parent":${b.parentSlot},"root":${root},"slot":${b.slot}}`;
          const times = faults.dupSlot() ? 2 : 1;
          emit(() => notify(e, "slotNotification", frame, times));
        }
        logsFor(b, "processed");
      });
      signaturesAt("processed");
    },
    /** Blocks that just reached confirmed, ascending. */
    confirmed(blocks: BlockRecord[]): void {
      for (const b of blocks) inGroup(() => logsFor(b, "confirmed"));
      if (blocks.length) signaturesAt("confirmed");
    },
    /** Blocks that just became roots (finalized), ascending. */
    rooted(blocks: BlockRecord[]): void {
      for (const b of blocks) {
        for (const e of byKey.values()) if (e.sub.kind === "root") notify(e, "rootNotification", String(b.slot));
        logsFor(b, "finalized");
      }
      if (blocks.length) signaturesAt("finalized");
    },
    dropAll,
    /** Number of live subscriptions of a kind (for tests). */
    subscriptionCount(kind?: Sub["kind"]): number {
      let n = 0;
      for (const e of byKey.values()) if (!kind || e.sub.kind === kind) n += e.holders.size;
      return n;
    },
    async close(): Promise<void> {
      if (dropTimer) clearInterval(dropTimer);
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
}
