/**
 * The Geyser `Subscribe` RPC over gRPC (Yellowstone's interface, core/proto): block and slot updates of the slots the
 * chain confirms (a blocks filter's `account_include` honoured as Yellowstone does: the block is sent with only the
 * transactions naming one of those accounts, static or looked up, each at its position), pings, pongs to client
 * pings, `from_slot` replay within a window of the most recent blocks, and the faults of the WebSocket's kind: resets
 * (status UNAVAILABLE), stalls (an open call with no update at all), duplicate block updates, and a server restart
 * (test hook).
 * @dev A block update is built and encoded (geyser-wire) once per block and filter, not per subscriber and send.
 * @dev A subscriber's updates wait in its own queue (a block as its slot, its update built when it is written) and
 * are written only while the call's buffer drains, so a client that reads slowly holds the server back (HTTP/2 flow
 * control), as a real server is held; a queue past MAX_QUEUED_UPDATES ends the call with "lagged", as Yellowstone
 * does.
 */
import * as grpc from "@grpc/grpc-js";
import bs58 from "bs58";
import { type GeyserRequest, type GeyserUpdate, geyserService, SLOT_STATUS } from "../core/geyser.js";
import type { Faults } from "./faults.js";
import { type EncodedBlock, encodeBlockRecord } from "./geyser-encode.js";
import type { BlockRecord, Ledger } from "./ledger.js";

const MAX_QUEUED_UPDATES = 20_000;
/**
 * Encoded block updates kept (bytes, the newest kept whatever its size): a block is built and encoded once per
 * filter, however many subscribers (or duplicate updates) it goes to.
 */
const ENCODED_CACHE_BYTES = 64 * 1024 * 1024;

/** A public key as a filter names it: base58 of 32 bytes. */
function isPubkey(k: string): boolean {
  try {
    return bs58.decode(k).length === 32;
  } catch {
    return false;
  }
}

/** Counters tests read (under `grpc_` keys in chain.stats()). */
export type GeyserStats = {
  calls: number;
  blocks: number;
  /** transactions written in block updates, and those a subscriber's filter left out */
  transactions: number;
  transactionsLeftOut: number;
  /** bytes of every update written (protobuf, before HTTP/2 framing) */
  bytes: number;
  resets: number;
  stalledUpdates: number;
  replayRefused: number;
  restarts: number;
  /** updates queued for subscribers, not yet written (now, and the most ever) */
  queued: number;
  maxQueued: number;
};

type Subscriber = {
  call: grpc.ServerDuplexStream<GeyserRequest, GeyserUpdate | Buffer>;
  /** updates to write; a number is a block's slot, its update built when it is written */
  queue: (GeyserUpdate | number)[];
  /** highest slot whose block was queued: replay and live never queue a block twice */
  last: number;
  blocks: boolean;
  /** the blocks filter: accounts a transaction must name to be sent (undefined: all), or no transactions */
  include: Set<string> | undefined;
  noTransactions: boolean;
  /** the blocks filter as a cache key: subscribers with the same filter are sent the same bytes */
  filterKey: string;
  slots: boolean;
  started: boolean;
  waiting: boolean;
  ended: boolean;
};

/** Creates the server; `listen` binds it, `restart` drops every call and binds again after a pause. */
export function createGeyserServer(deps: {
  ledger: Ledger;
  faults: Faults;
  /** blocks kept for `from_slot` replay (0: from_slot is refused) */
  replaySlots: number;
  /** server pings every this many ms */
  pingMs?: number;
  /** end every call this often (ms) with UNAVAILABLE; 0 = never */
  dropEvery?: number;
}) {
  const { ledger, faults } = deps;
  const subs = new Set<Subscriber>();
  const stats: GeyserStats = {
    calls: 0,
    blocks: 0,
    transactions: 0,
    transactionsLeftOut: 0,
    bytes: 0,
    resets: 0,
    stalledUpdates: 0,
    replayRefused: 0,
    restarts: 0,
    queued: 0,
    maxQueued: 0,
  };
  let server: grpc.Server | undefined;
  let address = "";
  let closed = false;

  const confirmedBlocks = (): number[] => {
    const tip = ledger.slotAt("confirmed");
    return ledger.slots.filter((s) => s <= tip && ledger.blocks.has(s));
  };

  /** Encoded block updates by slot and filter, newest last (see ENCODED_CACHE_BYTES). */
  const encoded = new Map<string, EncodedBlock>();
  let encodedBytes = 0;
  const blockUpdate = (sub: Subscriber, slot: number): EncodedBlock | undefined => {
    const b = ledger.blocks.get(slot);
    if (!b) return undefined;
    // the blockhash too: a fork replaces a slot's block
    const id = `${slot}/${b.blockhash}/${sub.filterKey}`;
    const hit = encoded.get(id);
    if (hit) return hit;
    const e = encodeBlockRecord(ledger, b, { include: sub.include, none: sub.noTransactions });
    encoded.set(id, e);
    encodedBytes += e.bytes.length;
    for (const [k, v] of encoded) {
      if (encodedBytes <= ENCODED_CACHE_BYTES || encoded.size <= 1) break;
      encoded.delete(k);
      encodedBytes -= v.bytes.length;
    }
    return e;
  };

  const enqueue = (sub: Subscriber, b: BlockRecord): void => {
    if (b.slot <= sub.last) return;
    sub.last = b.slot;
    if (sub.slots)
      sub.queue.push({
        filters: ["slotline"],
        update_oneof: "slot",
        slot: { slot: b.slot, parent: b.parentSlot, status: SLOT_STATUS.confirmed },
      });
    if (!sub.blocks) return;
    // Built when written, one at a time as the call drains: a replay window queued at once costs nothing here.
    sub.queue.push(b.slot);
    if (faults.dupBlock()) sub.queue.push(b.slot);
  };

  const count = (): void => {
    stats.queued = [...subs].reduce((n, s) => n + s.queue.length, 0);
    stats.maxQueued = Math.max(stats.maxQueued, stats.queued);
  };

  const end = (sub: Subscriber, code: grpc.status, details: string): void => {
    if (sub.ended) return;
    sub.ended = true;
    subs.delete(sub);
    sub.queue.length = 0;
    count();
    // grpc-js sends an error emitted on a server stream as the call's status
    sub.call.emit("error", { code, details, metadata: new grpc.Metadata() });
  };

  const pump = (sub: Subscriber): void => {
    if (sub.ended || sub.waiting) return;
    if (sub.queue.length > MAX_QUEUED_UPDATES) return end(sub, grpc.status.INTERNAL, "lagged to send an update");
    while (sub.queue.length > 0) {
      if (faults.grpcStalled()) {
        stats.stalledUpdates++;
        return;
      }
      const item = sub.queue.shift()!;
      let u: GeyserUpdate | Buffer;
      if (typeof item === "number") {
        const e = blockUpdate(sub, item);
        if (!e) continue;
        stats.blocks++;
        stats.transactions += e.transactions;
        stats.transactionsLeftOut += e.leftOut;
        u = e.bytes;
      } else u = item;
      if (!sub.call.write(u)) {
        sub.waiting = true;
        sub.call.once("drain", () => {
          sub.waiting = false;
          pump(sub);
        });
        break;
      }
    }
    count();
  };

  /** The first request of a call: its filters, and the replay from `from_slot`. */
  const start = (sub: Subscriber, req: GeyserRequest): void => {
    sub.started = true;
    const filters = Object.values(req.blocks ?? {});
    sub.blocks = filters.length > 0;
    // One filter is what slotline sends; of several, a transaction any of them names is sent (in one update).
    const include = filters.some((f) => !f.account_include?.length)
      ? undefined
      : filters.flatMap((f) => f.account_include ?? []);
    const bad = include?.find((k) => !isPubkey(k));
    if (bad !== undefined) return end(sub, grpc.status.INVALID_ARGUMENT, `invalid account_include pubkey: ${bad}`);
    sub.include = include && new Set(include);
    sub.noTransactions = filters.length > 0 && filters.every((f) => f.include_transactions === false);
    sub.filterKey = sub.noTransactions ? "none" : sub.include ? [...sub.include].sort().join(",") : "all";
    sub.slots = Object.keys(req.slots ?? {}).length > 0;
    const blocks = confirmedBlocks();
    if (req._from_slot === "from_slot" && req.from_slot !== undefined) {
      const from = Number(req.from_slot);
      if (deps.replaySlots === 0) return end(sub, grpc.status.INTERNAL, "from_slot is not supported");
      const window = blocks.slice(-deps.replaySlots);
      const first = window[0] ?? ledger.slotAt("confirmed") + 1;
      // A slot past the window's start that has no block is replayed from the next block, as a real server does.
      if (from < first && blocks.some((s) => s >= from && s < first)) {
        stats.replayRefused++;
        return end(sub, grpc.status.OUT_OF_RANGE, `broadcast from ${from} is not available, last available: ${first}`);
      }
      for (const s of window) if (s >= from) enqueue(sub, ledger.blocks.get(s)!);
    }
    // Live from here: nothing at or below the confirmed tip is sent again.
    sub.last = Math.max(sub.last, ledger.slotAt("confirmed"));
    pump(sub);
  };

  const subscribe = (call: grpc.ServerDuplexStream<GeyserRequest, GeyserUpdate | Buffer>): void => {
    stats.calls++;
    const sub: Subscriber = {
      call,
      queue: [],
      last: -1,
      blocks: false,
      include: undefined,
      noTransactions: false,
      filterKey: "",
      slots: false,
      started: false,
      waiting: false,
      ended: false,
    };
    subs.add(sub);
    call.on("data", (req: GeyserRequest) => {
      if (sub.ended) return;
      if (req._ping === "ping" && req.ping) {
        if (!faults.grpcStalled()) call.write({ filters: [], update_oneof: "pong", pong: { id: req.ping.id } });
        return;
      }
      if (!sub.started) start(sub, req);
    });
    const gone = (): void => {
      sub.ended = true;
      subs.delete(sub);
      count();
    };
    call.on("end", () => {
      gone();
      call.end();
    });
    call.on("cancelled", gone);
    call.on("error", gone);
  };

  const pinger = setInterval(() => {
    for (const sub of subs)
      if (sub.started && !sub.ended && !faults.grpcStalled() && sub.queue.length === 0)
        sub.call.write({ filters: [], update_oneof: "ping", ping: {} });
  }, deps.pingMs ?? 500);
  pinger.unref();
  // A stall ends at a time, not at an event: look again.
  const repump = setInterval(() => {
    for (const sub of subs) pump(sub);
  }, 100);
  repump.unref();
  const dropper =
    (deps.dropEvery ?? 0) > 0
      ? setInterval(() => {
          for (const sub of [...subs]) {
            stats.resets++;
            end(sub, grpc.status.UNAVAILABLE, "stream reset");
          }
        }, deps.dropEvery)
      : undefined;
  dropper?.unref();

  const bind = async (addr: string): Promise<number> => {
    const s = new grpc.Server({ "grpc.max_send_message_length": -1, "grpc.max_receive_message_length": 1 << 20 });
    const { service } = geyserService();
    // Every update's protobuf bytes counted as they go to the wire: a block update's written by geyser-wire (and
    // cached), the others by proto-loader.
    const def = service.Subscribe!;
    const counted = {
      ...service,
      Subscribe: {
        ...def,
        responseSerialize: (u: GeyserUpdate | Buffer) => {
          const b = Buffer.isBuffer(u) ? u : def.responseSerialize(u);
          stats.bytes += b.length;
          return b;
        },
      },
    };
    s.addService(counted, { Subscribe: subscribe });
    const port = await new Promise<number>((resolve, reject) =>
      s.bindAsync(addr, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    server = s;
    return port;
  };

  return {
    stats,
    /** Binds `host:port` (0: a free port); resolves with the port. */
    async listen(host: string, port: number): Promise<number> {
      const h = host.includes(":") ? `[${host}]` : host;
      const p = await bind(`${h}:${port}`);
      address = `${h}:${p}`;
      return p;
    },
    /** Newly confirmed blocks, in slot order: queued for every subscriber. */
    confirmed(blocks: BlockRecord[]): void {
      for (const sub of subs) {
        if (!sub.started) continue;
        for (const b of blocks) enqueue(sub, b);
        pump(sub);
      }
    },
    /** Ends every call with UNAVAILABLE (a reset). */
    drop(): void {
      for (const sub of [...subs]) {
        stats.resets++;
        end(sub, grpc.status.UNAVAILABLE, "stream reset");
      }
    },
    /** A server restart: every connection is cut, nothing listens for `downMs`, then the same port serves again. */
    async restart(downMs: number): Promise<void> {
      stats.restarts++;
      subs.clear();
      server?.forceShutdown();
      server = undefined;
      await new Promise((r) => setTimeout(r, downMs));
      if (!closed) await bind(address);
    },
    subscribers: (): number => subs.size,
    async close(): Promise<void> {
      closed = true;
      clearInterval(pinger);
      clearInterval(repump);
      if (dropper) clearInterval(dropper);
      subs.clear();
      server?.forceShutdown();
    },
  };
}

/** The server's type. */
export type GeyserServer = ReturnType<typeof createGeyserServer>;
