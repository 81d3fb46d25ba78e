/**
 * The Geyser feed: one Yellowstone `Subscribe` call (core/proto) for confirmed blocks and confirmed slots; reconnected
 * after any end, error or `stallMs` of silence, resuming with `from_slot`. Given the tracked programs, the blocks
 * filter names them in `account_include`: each block update carries only the transactions that touch one (votes and
 * everything else left on the server), with their positions and the block's transaction count. Spoken with
 * @grpc/grpc-js over the official protos rather than @triton-one/yellowstone-grpc: that client ships as a native
 * (napi) binary for four platforms and has no server side, while the local chain serves the same protos with grpc-js.
 * An update is read by geyser-proto (the fields slotline needs, straight from the bytes) rather than proto-loader's
 * generic decode, which cost more CPU per block than the rest of ingest; requests are still written by proto-loader.
 * @dev Backpressure: updates are handed to `onBlock` one at a time and the call is paused while one is being
 * handled, so grpc-js stops reading and HTTP/2 flow control holds the server back: the caller decides how fast the
 * stream is read, and at most one update (plus grpc-js's own read) is held in memory here.
 */
import * as grpc from "@grpc/grpc-js";
import { GEYSER_COMMITMENT, type GeyserRequest, type GeyserUpdate, geyserService } from "../../core/geyser.js";
import type { Logger } from "../../core/logger.js";
import type { Metrics } from "../../core/metrics.js";
import { blockAnswerText } from "./geyser-block.js";
import { readGeyserUpdate } from "./geyser-proto.js";

/** A block as the feed hands it on: its getBlock answer text, unless it could not be told exactly. */
export type FeedBlock = { slot: number; parentSlot: number; blockhash: string; answer: Buffer | undefined };

/** A running feed. */
export type GeyserFeed = {
  close(): Promise<void>;
  reconnects(): number;
  /** updates received and not yet handled, now and the most ever (the memory bound the tests assert) */
  buffered(): { now: number; max: number };
};

/** Status codes a server answers a `from_slot` older than its replay window with (Yellowstone: OUT_OF_RANGE). */
const REPLAY_REFUSED = new Set([grpc.status.OUT_OF_RANGE]);

/** Subscribes to blocks and slots at `commitment`; see the module's note for the reading discipline. */
export function createGeyserFeed(opts: {
  url: string;
  token?: string | undefined;
  commitment: keyof typeof GEYSER_COMMITMENT;
  stallMs: number;
  /** the tracked program ids: blocks are filtered on them (undefined: whole blocks, votes included) */
  programs?: readonly string[] | undefined;
  logger: Logger;
  metrics?: Pick<Metrics, "wsReconnects">;
  /** where to resume on the first connect (later ones resume after the last block handled); undefined = live */
  fromSlot(): number | undefined;
  /** awaited: the next update is not read before it resolves */
  onBlock(block: FeedBlock): Promise<void>;
  onSlot(slot: number): void;
  /** the server no longer holds `from`: the caller fills the gap some other way; the feed resumes live */
  onReplayRefused(from: number, message: string): void;
}): GeyserFeed {
  const { service } = geyserService();
  const Client = grpc.makeGenericClientConstructor(
    { ...service, Subscribe: { ...service.Subscribe!, responseDeserialize: readGeyserUpdate } },
    "Geyser",
  );
  const u = new URL(opts.url);
  const creds = u.protocol === "https:" ? grpc.credentials.createSsl() : grpc.credentials.createInsecure();
  const client = new Client(u.host, creds, {
    "grpc.max_receive_message_length": 1024 * 1024 * 1024,
    "grpc.keepalive_time_ms": 10_000,
    "grpc.keepalive_timeout_ms": 5_000,
    "grpc.keepalive_permit_without_calls": 1,
  });
  const log = opts.logger;
  const programs = opts.programs?.length ? [...opts.programs].sort() : undefined;
  let call: grpc.ClientDuplexStream<GeyserRequest, GeyserUpdate> | undefined;
  let closed = false;
  let reconnects = 0;
  let last = Date.now();
  let live = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let failures = 0;
  let pingId = 0;
  let lastBlock: number | undefined;
  const held = { now: 0, max: 0 };
  let handling: Promise<void> = Promise.resolve();

  const reconnect = (reason: string, delayMs: number) => {
    if (closed) return;
    const old = call;
    call = undefined;
    old?.removeAllListeners();
    old?.on("error", () => {});
    old?.cancel();
    reconnects++;
    opts.metrics?.wsReconnects.inc({ reason: `grpc_${reason}` });
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, delayMs);
  };

  const handle = async (c: typeof call, u: GeyserUpdate): Promise<void> => {
    try {
      if (u.update_oneof === "block" && u.block) {
        const b = u.block;
        live = false;
        await opts.onBlock({
          slot: Number(b.slot),
          parentSlot: Number(b.parent_slot),
          blockhash: b.blockhash,
          answer: blockAnswerText(b, programs),
        });
        lastBlock = Math.max(lastBlock ?? 0, Number(b.slot));
      } else if (u.update_oneof === "slot" && u.slot) opts.onSlot(Number(u.slot.slot));
    } catch (err) {
      log.warn({ err }, "grpc update not handled; the slot is fetched over RPC");
    } finally {
      held.now--;
      if (held.now === 0 && c === call) c?.resume();
    }
  };

  function connect() {
    if (closed) return;
    const md = new grpc.Metadata();
    if (opts.token) md.set("x-token", opts.token);
    const subscribe = client.Subscribe as (md: grpc.Metadata) => grpc.ClientDuplexStream<GeyserRequest, GeyserUpdate>;
    const c = subscribe.call(client, md);
    call = c;
    last = Date.now();
    const from = live ? undefined : lastBlock !== undefined ? lastBlock + 1 : opts.fromSlot();
    const req: GeyserRequest = {
      slots: { slotline: { filter_by_commitment: true } },
      blocks: {
        slotline: {
          ...(programs ? { account_include: programs } : {}),
          include_transactions: true,
          include_accounts: false,
          include_entries: false,
        },
      },
      commitment: GEYSER_COMMITMENT[opts.commitment],
    };
    if (from !== undefined) req.from_slot = String(from);
    c.write(req);
    log.info({ from_slot: from ?? null, programs: programs?.length ?? null }, "grpc subscribed");
    c.on("data", (u: GeyserUpdate) => {
      last = Date.now();
      failures = 0;
      if (u.update_oneof !== "block" && u.update_oneof !== "slot") return;
      held.now++;
      held.max = Math.max(held.max, held.now);
      // Read no further until the caller has taken this one.
      c.pause();
      handling = handling.then(() => handle(c, u));
    });
    c.on("error", (err: grpc.ServiceError) => {
      if (c !== call) return;
      if (REPLAY_REFUSED.has(err.code) && from !== undefined) {
        log.warn({ from_slot: from, details: err.details }, "grpc replay window passed; resuming live, gap over RPC");
        live = true;
        opts.onReplayRefused(from, err.details);
        return reconnect("replay_refused", 0);
      }
      failures++;
      log.warn({ code: err.code, details: err.details }, "grpc stream ended; reconnecting");
      reconnect(`status_${err.code}`, Math.min(5_000, 250 * 2 ** Math.min(failures, 5)));
    });
    c.on("end", () => {
      if (c !== call) return;
      log.warn("grpc stream closed by the server; reconnecting");
      reconnect("end", 250);
    });
  }

  connect();
  const watchdog = setInterval(
    () => {
      if (closed || !call) return;
      // Pings keep a quiet stream (and the load balancers in front of it) alive; a pong proves the server answers.
      call.write({ ping: { id: ++pingId } });
      // Silence while the caller holds an update is backpressure, not a stall.
      if (held.now > 0) last = Date.now();
      if (Date.now() - last < opts.stallMs) return;
      log.warn({ silent_ms: Date.now() - last }, "grpc stream silent; reconnecting");
      reconnect("silence", 0);
    },
    Math.max(200, Math.floor(opts.stallMs / 4)),
  );
  watchdog.unref();

  return {
    async close() {
      closed = true;
      clearInterval(watchdog);
      clearTimeout(retryTimer);
      const c = call;
      call = undefined;
      c?.removeAllListeners();
      c?.on("error", () => {});
      c?.cancel();
      // An update still being handled ends with the shutdown's signal; a handler stuck on a closed connection does
      // not hold the process.
      await Promise.race([handling.catch(() => {}), new Promise((r) => setTimeout(r, 2_000).unref())]);
      client.close();
    },
    reconnects: () => reconnects,
    buffered: () => ({ ...held }),
  };
}
