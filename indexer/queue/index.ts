/**
 * Stage 3: the block queue. A job carries one block (live: `slot-<n>`) or a range of produced slots
 * (backfill), never one transaction; job ids make re-enqueueing the same work a no-op while it is kept.
 */
import { Queue, type JobsOptions } from "bullmq";
import type { Redis } from "ioredis";
import { NonRetryableError, RedisUnavailableError } from "../../core/errors.js";

/** The queue of blocks to fetch, decode and store. */
export const BLOCK_QUEUE = "blocks";
/** Job name. */
export const INDEX_BLOCKS = "index-blocks";

/**
 * Payload: the slots to index (all produced per getBlocks) or, in logs mode, a batch of signatures; the
 * commitment, who asked, and (backfill --programs) the programs to decode instead of the worker's own set.
 * JSON-safe, no secrets.
 */
export type BlockJob = {
  slots: number[];
  signatures?: string[];
  commitment: "confirmed" | "finalized";
  origin: string;
  programs?: string[];
};

/** Largest job payload (JSON bytes): jobs carry references (slots, signatures), never data, so Redis stays small. */
export const MAX_JOB_BYTES = 2048;
/** Slots per job at most (a slot number is at most 16 characters in JSON). */
export const MAX_SLOTS_PER_JOB = 100;
/** Signatures per job at most (up to 88 base58 characters each; room left for a --programs list of ten ids). */
export const MAX_SIGNATURES_PER_JOB = 16;

/** Throws unless the job's payload fits MAX_JOB_BYTES (a bug, not a fault: never retried). */
export function checkJobData(data: BlockJob): BlockJob {
  const bytes = JSON.stringify(data).length;
  if (bytes > MAX_JOB_BYTES)
    throw new NonRetryableError(`job payload of ${bytes} bytes exceeds ${MAX_JOB_BYTES}: jobs carry references only`);
  return data;
}

/** Failed jobs kept in Redis (the newest); older ones live on in Postgres `dead_letters`. */
export const MAX_FAILED_JOBS = 10_000;

/** Longest pause between two attempts of a job (ms). */
export const MAX_BACKOFF_MS = 8_000;

/**
 * Pause before attempt `attemptsMade + 1`: 500 ms doubling, capped at MAX_BACKOFF_MS. Uncapped, a block that is
 * "not available yet" (-32004) for a few seconds near the tip waited a minute or more before its next try (and
 * held the resume point all that time); capped, ten attempts still span about a minute before a dead letter.
 */
export function blockBackoff(attemptsMade: number): number {
  return Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.max(0, attemptsMade - 1));
}

/**
 * Job options: retries with capped exponential backoff (every worker registers `blockBackoff` for "capped"); completed
 * jobs removed so Redis does not grow.
 */
export const BLOCK_JOB_OPTIONS: JobsOptions = {
  attempts: 10,
  backoff: { type: "capped", delay: 500 },
  removeOnComplete: true,
  // Failed jobs stay (bounded) so that a re-enqueue of a dead-lettered slot is a no-op until `dead-letters retry`.
  removeOnFail: { count: MAX_FAILED_JOBS },
};

/**
 * Job id of a live block job. BullMQ rejects ids containing ':' and reads digits-only ids as its own
 * auto-generated ones, hence the prefix.
 */
export const liveJobId = (slot: number) => `slot-${slot}`;

/**
 * gRPC mode: the Redis key of a streamed block's getBlock answer, held for the slot's job (the job payload stays
 * small) and deleted once stored. Bounded by the queue: ingest stops reading the stream while MAX_QUEUED_JOBS wait.
 */
export const streamedBlockKey = (prefix: string, slot: number) => `${prefix}:streamed:${slot}`;
/** How long a streamed block waits for its job (s): past it the job fetches the block over RPC. */
export const STREAMED_BLOCK_TTL_S = 600;

/** Throws unless `id` is a job id BullMQ keeps as given: no ':' (key separator), not digits only (its own ids). */
export function checkJobId(id: string): string {
  if (id.length === 0 || id.includes(":") || /^\d+$/.test(id))
    throw new NonRetryableError(`invalid job id ${JSON.stringify(id)}: ids must not contain ':' or be digits only`);
  return id;
}

/** The producer side of the queue. */
export type BlockQueue = {
  queue: Queue<BlockJob>;
  /** Adds one job per entry, in bulk; `id` is the job id. */
  enqueue(jobs: { id: string; data: BlockJob }[]): Promise<void>;
  /** Jobs waiting, delayed or active (what ingest's backpressure looks at). */
  depth(): Promise<number>;
  close(): Promise<void>;
};

/**
 * Creates the producer; `prefix` separates deployments (QUEUE_PREFIX).
 * @dev with a connection whose offline queue is off (the daemon's producer connection), every call fails at once
 * with RedisUnavailableError while Redis is down, even before the first connect: callers back off instead of
 * buffering commands in memory (BullMQ's "failing fast when Redis is down").
 */
export function createBlockQueue(connection: Redis, prefix: string): BlockQueue {
  const queue = new Queue<BlockJob>(BLOCK_QUEUE, { connection, prefix, defaultJobOptions: BLOCK_JOB_OPTIONS });
  const failFast = connection.options.enableOfflineQueue === false;
  // BullMQ re-emits connection errors on the queue; they are reported by the calls that fail.
  queue.on("error", () => {});
  const available = () => {
    if (failFast && connection.status !== "ready") throw new RedisUnavailableError(`redis is ${connection.status}`);
  };
  return {
    queue,
    async enqueue(jobs) {
      for (let i = 0; i < jobs.length; i += 500) {
        available();
        await queue.addBulk(
          jobs.slice(i, i + 500).map((j) => ({
            name: INDEX_BLOCKS,
            data: checkJobData(j.data),
            opts: { ...BLOCK_JOB_OPTIONS, jobId: checkJobId(j.id) },
          })),
        );
      }
    },
    async depth() {
      available();
      const c = await queue.getJobCounts("waiting", "delayed", "active", "prioritized", "waiting-children");
      return Object.values(c).reduce((a, b) => a + b, 0);
    },
    close: () => queue.close(),
  };
}
