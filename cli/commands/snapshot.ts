/**
 * `slotline snapshot --mint <mint|symbol>`: seeds a mint's token accounts, holders and holder count from
 * getProgramAccounts at one slot (progress bar in a terminal, log lines otherwise), then looks the mint up (supply at a
 * known slot, authorities, metadata) if it never was. Transactions stored after that slot override the seed.
 */
import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import type { Context } from "../../core/context.js";
import { createMetrics } from "../../core/metrics.js";
import { runMigrations } from "../../core/migrate.js";
import { createTokenEnricher } from "../../indexer/pipeline/index.js";
import { isPubkey, runSnapshot, type SnapshotProgress, type SnapshotSummary } from "../../indexer/snapshot/index.js";
import { createRpcClient } from "../../indexer/source/index.js";
import { createStore } from "../../indexer/store/index.js";
import { EXIT, withContext } from "../run.js";

/** Options of the command. */
export type SnapshotCliOptions = { mint: string; commitment?: string };

/** The mint a `--mint` value names: a mint address, or the symbol of exactly one stored token. */
export async function resolveMint(ctx: Pick<Context, "db">, v: string): Promise<{ mint?: string; problem?: string }> {
  if (isPubkey(v)) return { mint: v };
  const r = await ctx.db.$client.query<{ mint: string }>(
    "select mint from tokens where lower(symbol) = lower($1) order by mint limit 3",
    [v],
  );
  if (r.rows.length === 1) return { mint: r.rows[0]!.mint };
  if (r.rows.length === 0) return { problem: `--mint ${v}: not a mint address, nor the symbol of a stored token` };
  return { problem: `--mint ${v}: several stored tokens have this symbol (${r.rows.map((x) => x.mint).join(", ")}…)` };
}

/** Runs the command: the snapshot, then the mint's lookup. */
export async function snapshotCommand(
  ctx: Context,
  o: SnapshotCliOptions,
): Promise<{ code: number; message?: string; summary?: SnapshotSummary }> {
  const commitment = o.commitment ?? "finalized";
  if (commitment !== "finalized" && commitment !== "confirmed")
    return { code: EXIT.usage, message: `--commitment ${commitment}: expected finalized or confirmed` };
  const { mint, problem } = await resolveMint(ctx, o.mint);
  if (!mint) return { code: EXIT.usage, message: problem };
  const logger = ctx.logger.child({ stage: "snapshot" });
  const rpc = createRpcClient({
    url: ctx.config.SOLANA_RPC_URL,
    maxRps: ctx.config.RPC_MAX_RPS,
    concurrency: ctx.config.RPC_CONCURRENCY,
    batchSize: ctx.config.RPC_BATCH_SIZE,
    timeoutMs: ctx.config.RPC_TIMEOUT_MS,
    maxAnswerBytes: ctx.config.RPC_MAX_ANSWER_MB * 1024 * 1024,
    logger: logger.child({ stage: "rpc" }),
    metrics: createMetrics(),
  });
  const store = createStore(ctx);
  const bar = process.stderr.isTTY
    ? new SingleBar({ format: "snapshot {phase} [{bar}] {percentage}% | {value}/{total}", hideCursor: true })
    : undefined;
  let lastLog = 0;
  const onProgress = (p: SnapshotProgress) => {
    if (bar) {
      if (!bar.isActive) bar.start(p.total, p.done, { phase: p.phase });
      bar.setTotal(p.total);
      bar.update(p.done, { phase: p.phase });
    } else if (p.done === p.total || Date.now() - lastLog > 5_000) {
      lastLog = Date.now();
      logger.info({ phase: p.phase, done: p.done, total: p.total }, "snapshot progress");
    }
  };
  let summary: SnapshotSummary;
  try {
    summary = await runSnapshot({ rpc, store, logger }, mint, {
      commitment,
      onProgress,
    });
  } catch (err) {
    return { code: EXIT.failure, message: `snapshot failed: ${(err as Error).message}` };
  } finally {
    bar?.stop();
  }
  // the supply at a known slot, authorities and metadata, when the mint was never looked up
  await createTokenEnricher({ db: ctx.db, rpc, logger, store }).enrichMints([mint]);
  return { code: EXIT.ok, summary };
}

/** The summary as printed. */
export function formatSnapshot(s: SnapshotSummary): string {
  return `snapshot ${s.mint} (${s.program}) at slot ${s.slot}: ${s.accounts} accounts read, ${s.seeded} hold the snapshot's state, ${s.closed} closed, in ${(s.durationMs / 1000).toFixed(1)} s`;
}

/** Registers `snapshot` on the program. */
export function registerSnapshot(program: Command): void {
  program
    .command("snapshot")
    .description(
      "seed a mint's token accounts and holders from getProgramAccounts at one slot; later transactions override it",
    )
    .requiredOption("--mint <mint|symbol>", "the mint's address, or the symbol of one stored token")
    .option("--commitment <level>", "finalized (default) or confirmed")
    .action((opts: SnapshotCliOptions) =>
      withContext(
        "slotline-snapshot",
        async (ctx) => {
          await runMigrations(ctx.config.DATABASE_URL, { logger: ctx.logger });
          const out = await snapshotCommand(ctx, opts);
          if (out.message) (out.code === 0 ? process.stdout : process.stderr).write(`${out.message}\n`);
          if (out.summary) process.stdout.write(`${formatSnapshot(out.summary)}\n`);
          return out.code;
        },
        { postgres: "required" },
      ),
    );
}
