/**
 * The block worker: fetch (getBlock, batched) -> decode -> store (one Postgres transaction) -> publish.
 * Any number of these run, on any number of machines, on one queue.
 */
import { UnrecoverableError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Context } from "../../core/context.js";
import {
  createDecoder,
  type Decoder,
  type DecodedBlock,
  type DecodedTransaction,
  type DecodeWarning,
} from "../decode/index.js";
import { failpoint } from "../../core/failpoints.js";
import { isRetryable, MalformedResponseError, RpcResponseError } from "../../core/errors.js";
import type { Metrics } from "../../core/metrics.js";
import { blocksWithAnswers, fetchBlocks, fetchTransactions, fetchTxPositions, releaseBlocks } from "../source/index.js";
import type { RpcClient } from "../source/index.js";
import type { Store, WriteCounts } from "../store/index.js";
import { type ChainEvent, eventsChannel } from "../../core/events.js";
import { BLOCK_QUEUE, type BlockJob, blockBackoff, streamedBlockKey } from "../queue/index.js";
import { startHeartbeat } from "./heartbeat.js";
import { createTokenEnricher } from "./token-enricher.js";

/** What the worker needs besides the context. */
export type WorkerDeps = {
  rpc: RpcClient;
  decoder: Decoder;
  store: Store;
  metrics: Metrics;
  redis: Redis;
  concurrency?: number;
};

/** The event for a stored batch (exported for the contract test with the API). */
export function toEvent(blocks: DecodedBlock[], skipped: number[]): ChainEvent {
  const txs = blocks.flatMap((b) => b.transactions);
  return {
    type: "batch",
    slots: [...blocks.map((b) => b.slot), ...skipped].sort((a, b) => a - b),
    swaps: txs.flatMap((t) =>
      t.swaps.map((s) => ({
        signature: s.signature,
        instructionPath: s.instructionPath,
        pool: s.pool,
        trader: s.trader,
        mintIn: s.mintIn,
        mintOut: s.mintOut,
        amountIn: s.amountIn.toString(),
        amountOut: s.amountOut.toString(),
        slot: s.slot,
        blockTime: s.blockTime ? Math.floor(s.blockTime.getTime() / 1000) : null,
      })),
    ),
    transactions: txs.map((t) => ({
      signature: t.transaction.signature,
      slot: t.transaction.slot,
      programIds: t.transaction.programIds,
      success: t.transaction.success,
    })),
  };
}

/**
 * Publishes stored batches' events on the API's channel, `publish(build)`. An event names every swap and transaction
 * of its batch (megabytes of JSON for a batch of full blocks, about 3% of a busy worker's CPU to build and send), so
 * it is not built while no process listens: PUBLISH answers how many received the last one, and after an answer of
 * none, each batch asks PUBSUB NUMSUB first (one round trip) and builds its event only if someone subscribed since.
 * Best effort, as pub/sub is: a Redis error loses that event, never the batch. `walLsn` reads the primary's WAL
 * position once the batch has committed: the event carries it, so an API reading from replicas serves the event's
 * rows only from one that has replayed that far.
 */
export function createEventPublisher(
  redis: Redis,
  channel: string,
  metrics: Pick<Metrics, "batchEvents">,
  walLsn?: () => Promise<string | null>,
): (build: () => ChainEvent) => Promise<void> {
  let listened = true;
  return async (build) => {
    try {
      if (!listened) {
        const [, subscribers] = (await redis.pubsub("NUMSUB", channel)) as [string, number];
        if (Number(subscribers) === 0) return void metrics.batchEvents.inc({ outcome: "no_listener" });
      }
      const lsn = walLsn ? await walLsn().catch(() => null) : null;
      const event = build();
      if (lsn) event.lsn = lsn;
      listened = (await redis.publish(channel, JSON.stringify(event))) > 0;
      metrics.batchEvents.inc({ outcome: "published" });
    } catch {
      // the batch is stored; a subscriber misses this one event
    }
  };
}

/**
 * Reads the primary's WAL position (pg_current_wal_lsn) on `db`: asked after a batch committed, it is at or past the
 * batch's commit record.
 */
export function walLsnReader(db: Pick<Context["db"], "$client">): () => Promise<string | null> {
  return async () => {
    const r = await db.$client.query<{ lsn: string }>("select pg_current_wal_lsn()::text as lsn");
    return r.rows[0]?.lsn ?? null;
  };
}

/** A FIFO lock: `acquire` resolves with the function that releases it. */
export function createLock(): { acquire(): Promise<() => void> } {
  let tail = Promise.resolve();
  return {
    acquire() {
      let release!: () => void;
      const next = new Promise<void>((r) => (release = r));
      const ready = tail.then(() => release);
      tail = tail.then(() => next);
      return ready;
    },
  };
}

/**
 * The processing lock of one job: taken when its first response body has arrived (before it is parsed) or, at the
 * latest, before its store transaction; released when the job is done.
 * @dev parsing and decoding a block is one long synchronous stretch (about 100 ms for 2,400 transactions); while
 * it runs, another job of this process holding a store transaction cannot send its next statement, and every
 * worker waiting on that transaction's row locks waits with it. With the lock, a process has at most one job
 * between parse and commit; the other jobs only wait for their responses, which overlap.
 */
function jobTurn(lock: { acquire(): Promise<() => void> }) {
  let held: Promise<() => void> | undefined;
  return {
    take: async (): Promise<void> => void (await (held ??= lock.acquire())),
    // Idempotent: the logs path releases right after its commit and again in its finally.
    release: async (): Promise<void> => {
      const h = held;
      held = undefined;
      if (h) (await h)();
    },
  };
}

/** Fetch -> decode -> store -> publish for one job's worth of work; shared by the worker and `backfill --inline`. */
export type BatchIndexer = {
  index(job: BlockJob): Promise<WriteCounts>;
  sweepTokens(): Promise<number>;
  close(): Promise<void>;
};

/** Creates the batch indexer. */
export function createBatchIndexer(ctx: Pick<Context, "config" | "logger" | "db">, deps: WorkerDeps): BatchIndexer {
  const log = ctx.logger.child({ stage: "worker" });
  const seenWarnings = new Set<string>();
  const enricher = createTokenEnricher({ db: ctx.db, rpc: deps.rpc, logger: log, store: deps.store });
  const publisher = deps.redis.duplicate();
  const publish = createEventPublisher(
    publisher,
    eventsChannel(ctx.config.QUEUE_PREFIX),
    deps.metrics,
    walLsnReader(ctx.db),
  );
  const processing = createLock();
  // A job may narrow the programs (backfill --programs): one decoder per distinct set, kept for the process.
  const decoders = new Map<string, Decoder>();
  const decoderFor = (programs?: string[]): Decoder => {
    if (!programs?.length) return deps.decoder;
    const key = [...programs].sort().join(",");
    let d = decoders.get(key);
    if (!d) decoders.set(key, (d = createDecoder({ programs })));
    return d;
  };

  function countWarnings(warnings: DecodeWarning[]) {
    for (const w of warnings) {
      const program = "programId" in w ? w.programId : "";
      const disc = "discriminator" in w ? w.discriminator : "";
      deps.metrics.decodeWarnings.inc({ kind: w.kind, program, discriminator: disc });
      const key = `${w.kind}:${program}:${disc}`;
      if (!seenWarnings.has(key)) {
        seenWarnings.add(key);
        // Logged once per kind; the metric counts every occurrence.
        log.warn(
          { kind: w.kind, program_id: program, discriminator: disc, signature: w.signature },
          w.kind === "log_truncated"
            ? "logs truncated; events past the cut are not invented"
            : "instruction passed over",
        );
      }
    }
  }

  /** Logs mode: a batch of signatures -> getTransaction (batched) -> decode -> one Postgres transaction. */
  async function processSignatures(signatures: string[], commitment: BlockJob["commitment"], decoder: Decoder) {
    const turn = jobTurn(processing);
    try {
      return await storeSignatures(turn, signatures, commitment, decoder);
    } finally {
      await turn.release();
    }
  }

  async function storeSignatures(
    turn: ReturnType<typeof jobTurn>,
    signatures: string[],
    commitment: BlockJob["commitment"],
    decoder: Decoder,
  ) {
    const txs = await fetchTransactions(deps.rpc, signatures, commitment, { beforeParse: turn.take });
    // getTransaction does not tell a transaction's position in its block, and balances follow chain order: each
    // slot's block signatures give it (one cheap getBlock per slot), so every row carries its real tx_index.
    const positions = await fetchTxPositions(
      deps.rpc,
      txs.map((tx) => ({ signature: tx.transaction.signatures[0]!, slot: tx.slot })),
      commitment,
    );
    await turn.take();
    const decoded: DecodedTransaction[] = [];
    const passed: { signature: string; slot: number }[] = [];
    for (const tx of txs) {
      const txIndex = positions.get(tx.transaction.signatures[0]!)!;
      const d = decoder.decodeTransaction(tx, { slot: tx.slot, blockTime: tx.blockTime ?? null, txIndex });
      if (d) decoded.push(d);
      // Mentioned a tracked program without invoking one: remembered, so it is not fetched again.
      else passed.push({ signature: tx.transaction.signatures[0]!, slot: tx.slot });
    }
    for (const t of decoded) countWarnings(t.warnings);
    const counts = await deps.store.writeTransactions(decoded, passed);
    await turn.release();
    deps.metrics.transactionsStored.inc(counts.transactions);
    const asBlock = {
      slot: 0,
      parentSlot: 0,
      blockhash: "",
      blockTime: null,
      txCount: decoded.length,
      transactions: decoded,
    };
    await publish(() => {
      const event = toEvent([asBlock], []);
      event.slots = [...new Set(decoded.map((t) => t.transaction.slot))].sort((a, b) => a - b);
      return event;
    });
    await enricher.enrich([asBlock]).catch(() => {});
    return counts;
  }

  return {
    async index(job) {
      const { slots, commitment } = job;
      const t0 = performance.now();
      const decoder = decoderFor(job.programs);
      if (job.signatures?.length) return processSignatures(job.signatures, commitment, decoder);
      const turn = jobTurn(processing);
      let fetched: Awaited<ReturnType<typeof fetchBlocks>>;
      let decoded: DecodedBlock[];
      let counts: WriteCounts;
      // gRPC mode: a live job's block may have been streamed (held in Redis by ingest); the rest come over RPC.
      const streamed =
        ctx.config.INGEST_MODE === "grpc" && job.origin === "live"
          ? slots.map((s) => streamedBlockKey(ctx.config.QUEUE_PREFIX, s))
          : [];
      try {
        fetched = streamed.length
          ? await blocksWithAnswers(deps.rpc, slots, await deps.redis.mgetBuffer(...streamed), commitment, {
              beforeParse: turn.take,
              // A block streamed filtered on the tracked programs stands only for a decoder tracking no others.
              programs: decoder.trackedProgramIds,
            })
          : await fetchBlocks(deps.rpc, slots, commitment, { beforeParse: turn.take });
        await turn.take();
        try {
          // Each block keeps its parent's hash as it names it: live ingest checks the chain from the slots table.
          decoded = fetched.blocks.map(({ slot, block }) => ({
            ...decoder.decodeBlock(block, slot),
            previousBlockhash: block.previousBlockhash,
          }));
        } finally {
          // Decoded rows hold no reference to the answer's bytes: its buffer serves the next fetch while this writes.
          releaseBlocks(fetched);
        }
        for (const b of decoded) for (const t of b.transactions) countWarnings(t.warnings);
        const end = deps.metrics.storeSeconds.startTimer();
        counts = await deps.store.writeBlocks(decoded, { commitment, skipped: fetched.skipped });
        end();
      } finally {
        await turn.release();
      }
      if (streamed.length) await deps.redis.del(...streamed).catch(() => {});
      deps.metrics.slotsStored.inc({ status: "indexed" }, decoded.length);
      deps.metrics.slotsStored.inc({ status: "skipped" }, fetched.skipped.length);
      deps.metrics.transactionsStored.inc(counts.transactions);
      await publish(() => toEvent(decoded, fetched.skipped));
      await enricher
        .enrich(decoded)
        .catch((err) => log.warn({ err }, "token lookup failed; retried with the next batch that sees the mint"));
      log.debug(
        {
          slots: slots.length,
          transactions: counts.transactions,
          swaps: counts.swaps,
          duration_ms: Math.round(performance.now() - t0),
        },
        "stored batch",
      );
      return counts;
    },
    sweepTokens: () => enricher.sweep(),
    close: async () => void (await publisher.quit().catch(() => {})),
  };
}

/** Creates and starts the worker; `close()` finishes in-flight jobs. */
export function createBlockWorker(
  ctx: Pick<Context, "config" | "logger" | "db"> & { shutdown?: Pick<Context["shutdown"], "isKilled"> },
  deps: WorkerDeps,
): Worker<BlockJob> {
  const log = ctx.logger.child({ stage: "worker" });
  const indexer = createBatchIndexer(ctx, deps);

  async function process(job: Job<BlockJob>) {
    try {
      await failpoint("job.beforeCommit");
      return await indexer.index(job.data).then(async (counts) => (await failpoint("job.afterCommit"), counts));
    } catch (err) {
      // A job cut short by shutdown (the grace ran out and its pool or Redis closed under it) did nothing wrong:
      // never dead-lettered, its lock expires and another worker takes it.
      if (ctx.shutdown?.isKilled) throw err;
      // Deterministic failures fail once; transient ones are retried by BullMQ with backoff.
      if (!isRetryable(err) && !(err instanceof MalformedResponseError) && !(err instanceof RpcResponseError))
        throw new UnrecoverableError((err as Error).message);
      throw err;
    }
  }

  const worker = new Worker<BlockJob>(BLOCK_QUEUE, process, {
    connection: deps.redis.duplicate(),
    prefix: ctx.config.QUEUE_PREFIX,
    concurrency: deps.concurrency ?? 4,
    // A block job takes well under a second; a stalled lock means the worker died: hand the job to another.
    lockDuration: ctx.config.WORKER_LOCK_MS,
    stalledInterval: Math.max(500, Math.floor(ctx.config.WORKER_LOCK_MS / 2)),
    // A killed worker is not the job's fault: hand it on a few times before calling it a poison job (BullMQ's
    // default is 1, so two crashes under one job failed it).
    maxStalledCount: 3,
    settings: { backoffStrategy: (attemptsMade: number) => blockBackoff(attemptsMade) },
  });
  // Another worker may still be running a stalled job (it was blocked, not dead): writes are idempotent upserts,
  // and its completion then fails with "Missing lock", reported below as a worker error, never a crash.
  worker.on("stalled", (jobId) => {
    deps.metrics.jobsStalled.inc({ queue: BLOCK_QUEUE });
    log.warn({ job_id: jobId }, "job stalled; handed back to the queue");
  });
  worker.on("failed", (job, err) => {
    if (!job) return;
    const final =
      err instanceof UnrecoverableError ||
      err.name === "UnrecoverableError" ||
      job.attemptsMade >= (job.opts.attempts ?? 1);
    log.warn(
      { job_id: job.id, attempts: job.attemptsMade, final, err },
      final ? "job dead-lettered" : "job failed, will retry",
    );
    if (!final) return;
    deps.metrics.deadLetters.inc({ queue: BLOCK_QUEUE });
    void deps.store
      .recordDeadLetter({
        queue: BLOCK_QUEUE,
        jobId: job.id!,
        jobName: job.name,
        payload: job.data,
        error: String(err.message),
        attempts: job.attemptsMade,
      })
      .catch((e) => log.error({ err: e }, "could not record dead letter"));
  });
  // A job dead-lettered and then done under the same id after all (retried after stalling out) leaves no
  // stale dead letter behind.
  worker.on("completed", (job) => {
    if (job.attemptsMade === 0 && job.stalledCounter === 0) return;
    void deps.store.clearDeadLetter(BLOCK_QUEUE, job.id!).catch(() => {});
  });
  worker.on("error", (err) => log.error({ err }, "worker error"));
  startHeartbeat(worker, deps.redis, ctx.config.QUEUE_PREFIX, deps.concurrency ?? 4);
  // Mints stored by a batch whose worker died before its lookup are filled in here.
  const sweeper = setInterval(() => void indexer.sweepTokens().catch(() => {}), 5_000);
  sweeper.unref();
  worker.on("closing", () => clearInterval(sweeper));
  worker.on("closed", () => void indexer.close());
  return worker;
}
