/**
 * `slotline backfill`: argument checks, RPC preflight, dry run, progress (bar in a terminal, log lines otherwise),
 * summary.
 */
import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import {
  type BackfillArgs,
  type BackfillPlan,
  type BackfillProgress,
  type BackfillSummary,
  parseBackfillPlan,
  runBackfill,
} from "../../indexer/backfill/index.js";
import type { Context } from "../../core/context.js";
import { createDecoder } from "../../indexer/decode/index.js";
import { createBatchIndexer } from "../../indexer/pipeline/index.js";
import { runMigrations } from "../../core/migrate.js";
import { configOrExit, EXIT, withContext } from "../run.js";
import { createRuntime, type Runtime } from "../runtime.js";
import { producedSlots } from "../../indexer/source/index.js";
import { createRpcPool } from "../../indexer/source/index.js";

/** Options beyond the plan. */
export type BackfillCliOptions = BackfillArgs & {
  inline?: boolean;
  dryRun?: boolean;
  programs?: string;
  rps?: string;
  concurrency?: string;
};

/** Exit code and output of a backfill run. */
export type BackfillOutcome = { code: number; message?: string; summary?: BackfillSummary };

/** Checks the arguments (exit 2 on any problem) without touching the database or the RPC. */
export function checkBackfillArgs(
  o: BackfillCliOptions,
  ctx: Pick<Context, "config">,
): { plan?: BackfillPlan; programs?: string[]; problems: string[] } {
  const { plan, problems } = parseBackfillPlan(o, ctx.config.RPC_BATCH_SIZE > 20 ? 10 : ctx.config.RPC_BATCH_SIZE);
  let programs: string[] | undefined;
  if (o.programs !== undefined) {
    programs = o.programs
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean);
    try {
      createDecoder({ programs });
    } catch (err) {
      problems.push(`--programs: ${(err as Error).message}`);
    }
  }
  for (const [name, v] of [
    ["--rps", o.rps],
    ["--concurrency", o.concurrency],
  ] as const)
    if (v !== undefined && !(/^\d+$/.test(v) && Number(v) >= 1))
      problems.push(`${name} ${v}: expected a whole number of at least 1`);
  return { plan, programs, problems };
}

/** Runs the command. */
export async function backfillCommand(ctx: Context, rt: Runtime, o: BackfillCliOptions): Promise<BackfillOutcome> {
  const { plan, programs, problems } = checkBackfillArgs(o, ctx);
  if (!plan) return { code: 2, message: problems.join("\n") };
  // History goes to the archive endpoint first when one is configured (SOLANA_ARCHIVE_RPC_URL).
  const rpc = (
    o.rps || o.concurrency
      ? createRpcPool({
          // --rps / --concurrency replace every endpoint's own budget for this command.
          endpoints: ctx.config.SOLANA_RPC_ENDPOINTS.map((e) => ({ url: e.url })),
          archive: ctx.config.SOLANA_ARCHIVE_RPC ? { url: ctx.config.SOLANA_ARCHIVE_RPC.url } : undefined,
          maxRps: Number(o.rps ?? ctx.config.RPC_MAX_RPS),
          concurrency: Number(o.concurrency ?? ctx.config.RPC_CONCURRENCY),
          batchSize: ctx.config.RPC_BATCH_SIZE,
          timeoutMs: ctx.config.RPC_TIMEOUT_MS,
          maxAnswerBytes: ctx.config.RPC_MAX_ANSWER_MB * 1024 * 1024,
          logger: ctx.logger,
          metrics: rt.metrics,
        })
      : rt.rpc
  ).history();

  // Preflight: history the RPC cannot serve, and an `until` it does not know (which would make
  // getSignaturesForAddress return the newest page as if it were the end).
  if (plan.kind === "slots") {
    const first = await rpc.call<number>("getFirstAvailableBlock", []);
    if (plan.fromSlot < first)
      return {
        code: 1,
        message: `this RPC has no history below slot ${first} (getFirstAvailableBlock); run again with --from-slot ${first}, or point SOLANA_RPC_URL at an archive node`,
      };
  } else if (plan.until) {
    const tx = await rpc.call<unknown>("getTransaction", [
      plan.until,
      { maxSupportedTransactionVersion: 0, commitment: "finalized" },
    ]);
    if (tx === null)
      return {
        code: 2,
        message: `--until ${plan.until}: this RPC does not know that signature; an unknown until would silently return the newest page`,
      };
  }

  if (o.dryRun) {
    if (plan.kind === "slots") {
      const produced = await producedSlots(rpc, plan.fromSlot, plan.toSlot, "finalized");
      const todo = await rt.store.notDone(produced);
      return {
        code: 0,
        message: `dry run: slots ${plan.fromSlot}..${plan.toSlot}: ${produced.length} blocks produced, ${todo.length} not stored yet, ${Math.ceil(todo.length / plan.batchSize)} jobs of up to ${plan.batchSize}`,
      };
    }
    let n = 0;
    let before = plan.before;
    for (;;) {
      const page = await rpc.call<{ signature: string }[]>("getSignaturesForAddress", [
        plan.address,
        { before, until: plan.until, limit: 1000, commitment: "finalized" },
      ]);
      n += page.length;
      if (page.length < 1000 || (plan.limit && n >= plan.limit)) break;
      before = page.at(-1)!.signature;
    }
    return {
      code: 0,
      message: `dry run: ${plan.address}: ${plan.limit ? Math.min(n, plan.limit) : n} signatures would be fetched`,
    };
  }

  const concurrency = Number(o.concurrency ?? ctx.config.RPC_CONCURRENCY);
  const indexer = o.inline
    ? createBatchIndexer(ctx, { ...rt, rpc, decoder: programs ? createDecoder({ programs }) : rt.decoder })
    : undefined;
  const bar = process.stderr.isTTY
    ? new SingleBar({
        format: "backfill [{bar}] {percentage}% | {value}/{total} {unit} | {tps} tx/s | ETA {eta_formatted}",
        hideCursor: true,
      })
    : undefined;
  let lastLog = 0;
  const onProgress = (p: BackfillProgress) => {
    const secs = (Date.now() - p.startedAt) / 1000;
    const tps = Math.round(p.transactions / Math.max(secs, 0.001));
    const unit = plan.kind === "slots" ? "slots" : "signatures";
    if (bar) {
      if (!bar.isActive) bar.start(p.total ?? p.done, p.done, { unit, tps });
      bar.setTotal(p.total ?? p.done);
      bar.update(p.done, { unit, tps });
    } else if (Date.now() - lastLog > 5_000) {
      lastLog = Date.now();
      const eta = p.total && p.done > 0 ? Math.round((secs / p.done) * (p.total - p.done)) : null;
      ctx.logger.info({ done: p.done, total: p.total, unit, tx_per_s: tps, eta_s: eta }, "backfill progress");
    }
  };
  try {
    const summary = await runBackfill(
      ctx,
      { rpc, store: rt.store, queue: rt.queue, indexer, concurrency, programs },
      plan,
      { signal: ctx.shutdown.signal, onProgress },
    );
    return { code: 0, summary };
  } catch (err) {
    const r = await ctx.db.$client.query<{ slot: string | null; position: string | null }>(
      `select slot::text, position from cursors where kind = 'backfill' order by updated_at desc limit 1`,
    );
    const at = r.rows[0]?.slot ?? r.rows[0]?.position ?? "the start";
    return {
      code: 1,
      message: `backfill stopped: ${(err as Error).message}\nreached ${at}; run the same command again to resume from there`,
    };
  } finally {
    bar?.stop();
    await indexer?.close();
  }
}

/** The summary as printed. */
export function formatSummary(s: BackfillSummary): string {
  const secs = (s.durationMs / 1000).toFixed(1);
  return `backfill ${s.id} ${s.status}: ${s.slots} slots, ${s.skippedSlots} skipped slots, ${s.transactions} transactions, ${s.swaps} swaps, ${s.transfers} transfers in ${secs} s${s.status === "stopped" ? " (run the same command again to resume)" : ""}`;
}

/** Registers `backfill` on the program. */
export function registerBackfill(program: Command): void {
  program
    .command("backfill")
    .description(
      "index history by slot range or by address, resumably (same command again resumes); beside live ingest",
    )
    .option("--from-slot <slot>", "first slot of the range")
    .option("--to-slot <slot>", "last slot of the range")
    .option("--program <preset|id>", "a program's history (getSignaturesForAddress)")
    .option("--address <id>", "an address's history (getSignaturesForAddress)")
    .option("--before <signature>", "address mode: start below this signature")
    .option("--until <signature>", "address mode: stop at this signature (must be known to the RPC)")
    .option("--limit <n>", "address mode: at most n signatures")
    .option("--programs <list>", "decode only these presets or program ids (default PROGRAMS)")
    .option("--batch-size <n>", "blocks or signatures per job")
    .option("--rps <n>", "override RPC_MAX_RPS")
    .option("--concurrency <n>", "override RPC_CONCURRENCY (and inline lanes)")
    .option("--inline", "do the work in this process instead of the queue's workers")
    .option("--dry-run", "report what would be fetched, change nothing")
    .action((opts: BackfillCliOptions) => {
      const config = configOrExit();
      const checked = checkBackfillArgs(opts, { config });
      if (checked.problems.length) {
        process.stderr.write(`${checked.problems.join("\n")}\n`);
        process.exit(EXIT.usage);
      }
      return withContext(
        "slotline-backfill",
        async (ctx) => {
          await runMigrations(ctx.config.DATABASE_URL, { logger: ctx.logger });
          const rt = await createRuntime(ctx);
          const out = await backfillCommand(ctx, rt, opts);
          if (out.message) (out.code === 0 ? process.stdout : process.stderr).write(`${out.message}\n`);
          if (out.summary) process.stdout.write(`${formatSummary(out.summary)}\n`);
          return out.code;
        },
        { postgres: "required", redis: "waitFor" },
      );
    });
}
