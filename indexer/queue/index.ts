/**
 * Stage 3: the block queue. A job carries one block (live: `slot-<n>`) or a range of produced slots
 * (backfill), never one transaction; job ids make re-enqueueing the same work a no-op while it is kept.
 */
import { Queue, type JobsOptions } from "bullmq";
import type { Redis } from "ioredis";

/** The queue of blocks to fetch, decode and store. */
export const BLOCK_QUEUE = "blocks";
/** Job name. */
export const INDEX_BLOCKS = "index-blocks";

/**
 * Payload: the slots to index (all produced per getBlocks) or, in logs mode, a batch of signatures; the
 * commitment, who asked, and (backfill --programs) the programs to decode instead of the worker's own set.
 * JSON-safe, no secrets.
 */
export type BlockJob = { slots: number[]; signatures?: string[]; commitment: "confirmed" | "finalized"; origin: string; programs?: string[] };

/** Job options: retries with exponential backoff; completed jobs removed so Redis does not grow. */
export const BLOCK_JOB_OPTIONS: JobsOptions = {
  attempts: 10,
  backoff: { type: "exponential", delay: 500 },
  removeOnComplete: true,
  // Failed jobs stay (bounded) so that a re-enqueue of a dead-lettered slot is a no-op until `dead-letters retry`.
  removeOnFail: { count: 10_000 },
};

/** Job id of a live block job. Ids must not contain ':'. */
export const liveJobId = (slot: number) => `slot-${slot}`;

/** The producer side of the queue. */
export type BlockQueue = {
  queue: Queue<BlockJob>;
  /** Adds one job per entry, in bulk; `id` is the job id. */
  enqueue(jobs: { id: string; data: BlockJob }[]): Promise<void>;
  /** Jobs waiting, delayed or active (what ingest's backpressure looks at). */
  depth(): Promise<number>;
  close(): Promise<void>;
};

/** Creates the producer; `prefix` separates deployments (QUEUE_PREFIX). */
export function createBlockQueue(connection: Redis, prefix: string): BlockQueue {
  const queue = new Queue<BlockJob>(BLOCK_QUEUE, { connection, prefix, defaultJobOptions: BLOCK_JOB_OPTIONS });
  return {
    queue,
    async enqueue(jobs) {
      for (let i = 0; i < jobs.length; i += 500) {
        await queue.addBulk(jobs.slice(i, i + 500).map((j) => ({ name: INDEX_BLOCKS, data: j.data, opts: { ...BLOCK_JOB_OPTIONS, jobId: j.id } })));
      }
    },
    async depth() {
      const c = await queue.getJobCounts("waiting", "delayed", "active", "prioritized", "waiting-children");
      return Object.values(c).reduce((a, b) => a + b, 0);
    },
    close: () => queue.close(),
  };
}
