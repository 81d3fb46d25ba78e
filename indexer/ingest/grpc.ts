/**
 * Live ingest's intake in gRPC mode (`INGEST_MODE=grpc`): blocks streamed over Yellowstone gRPC are held in Redis
 * for their slot's job (so the worker parses the answer without a getBlock) and enqueued at once, ahead of the
 * getBlocks scan. The scan and the resume point are block mode's, unchanged: getBlocks still says which slots were
 * produced, so a slot the stream never delivered (a reset, a restart, a gap past the server's replay window) is
 * enqueued by the scan and its job fetches it over RPC, and the resume point moves only over stored or skipped slots.
 * @dev Backpressure: a block is taken from the stream only once fewer than `maxQueued` jobs wait, and the feed reads
 * nothing more until it is taken, so the stream is read no faster than the workers drain the queue and Redis holds
 * at most about `maxQueued` streamed blocks.
 */
import type { Redis } from "ioredis";
import type { Context } from "../../core/context.js";
import type { Metrics } from "../../core/metrics.js";
import { type BlockQueue, liveJobId, STREAMED_BLOCK_TTL_S, streamedBlockKey } from "../queue/index.js";
import { createGeyserFeed, type FeedBlock, type GeyserFeed } from "../source/index.js";
import type { Store } from "../store/index.js";

/** What the intake counts: blocks taken from the stream, of them held for their job, and replay refusals. */
export type StreamIntakeStats = { blocks: number; held: number; refused: number; waitedMs: number };

/** Starts the feed; `resume()` is the live resume point (blocks at or below it are stored already). */
export function createStreamIntake(
  ctx: Pick<Context, "config" | "logger" | "shutdown">,
  deps: { store: Store; queue: BlockQueue; redis: Redis; metrics: Metrics; programs?: readonly string[] | undefined },
  opts: { maxQueued: number; stallMs: number; resume(): number | null; wake(): void },
): GeyserFeed & { stats(): StreamIntakeStats; reach(): number | undefined } {
  const { config } = ctx;
  const log = ctx.logger.child({ stage: "ingest", source: "grpc" });
  const signal = ctx.shutdown.signal;
  const commitment = config.COMMITMENT;
  const stats: StreamIntakeStats = { blocks: 0, held: 0, refused: 0, waitedMs: 0 };
  const sleep = (ms: number) =>
    new Promise<void>((r) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        signal.removeEventListener("abort", done);
        r();
      }
      signal.addEventListener("abort", done, { once: true });
    });
  /** the highest slot whose block the stream handed over, and when */
  let reach: { slot: number; at: number } | undefined;

  const feed = createGeyserFeed({
    url: config.SOLANA_GRPC_URL!,
    token: config.SOLANA_GRPC_TOKEN,
    commitment,
    programs: deps.programs,
    stallMs: opts.stallMs,
    logger: log,
    metrics: deps.metrics,
    fromSlot: () => {
      const r = opts.resume();
      return r === null ? undefined : r + 1;
    },
    onSlot: () => opts.wake(),
    onReplayRefused: () => {
      stats.refused++;
      opts.wake();
    },
    async onBlock(b) {
      try {
        await take(b);
      } finally {
        if (b.slot > (reach?.slot ?? -1)) reach = { slot: b.slot, at: Date.now() };
        else if (reach) reach.at = Date.now();
      }
    },
  });

  /** Takes one streamed block: holds its answer for its job and enqueues the job, once the queue has room. */
  async function take(b: FeedBlock): Promise<void> {
    const resume = opts.resume();
    if (resume !== null && b.slot <= resume) return;
    // Read no further while the queue is full: the call stays paused, the server is held back.
    const t0 = Date.now();
    while (!signal.aborted && (await deps.queue.depth()) >= opts.maxQueued) await sleep(50);
    stats.waitedMs += Date.now() - t0;
    if (signal.aborted) return;
    stats.blocks++;
    const todo = await deps.store.notDone([b.slot]);
    if (todo.length === 0) return;
    if (b.answer) {
      await deps.redis.set(streamedBlockKey(config.QUEUE_PREFIX, b.slot), b.answer, "EX", STREAMED_BLOCK_TTL_S);
      stats.held++;
    }
    // Pending row first, then the job (as the scan does); a duplicate update finds the same job id: a no-op.
    await deps.store.markPending(todo);
    await deps.queue.enqueue([{ id: liveJobId(b.slot), data: { slots: [b.slot], commitment, origin: "live" } }]);
    opts.wake();
  }

  return {
    ...feed,
    stats: () => ({ ...stats }),
    /**
     * How far the scan may enqueue: up to the stream's last block while the stream is live (its blocks go to their
     * jobs without a getBlock; the slots the scan finds below it are the ones the stream missed), anywhere while it
     * has handed nothing over for `stallMs` (down, or the chain is quiet). Undefined = no limit.
     */
    reach: () => (reach && Date.now() - reach.at < opts.stallMs ? reach.slot : undefined),
  };
}
