/**
 * `slotline status`: migrations, the live resume point, backfills, slots and dead letters, from Postgres; and each
 * RPC endpoint of the pool, from the running process's /metrics (METRICS_PORT).
 */
import { readdirSync } from "node:fs";
import type { Command } from "commander";
import { sql } from "drizzle-orm";
import type { Config } from "../../core/config.js";
import type { Context } from "../../core/context.js";
import { endpointName } from "../../indexer/source/index.js";
import { MIGRATIONS_FOLDER } from "../../core/migrate.js";
import { withContext } from "../run.js";

/** The status report, as `--json` prints it. */
export type StatusReport = {
  migrations: { applied: number; available: number };
  live: { resumeSlot: number | null; status: string | null; updatedAt: string | null } | null;
  backfills: {
    id: string;
    status: string;
    position: string | null;
    done: number;
    total: number | null;
    updatedAt: string;
  }[];
  slots: { indexed: number; skipped: number; rolledBack: number; highestIndexed: number | null };
  deadLetters: number;
  /** each configured RPC endpoint; state etc. from the running process, null fields when it cannot be reached */
  endpoints?: EndpointReport[];
};

/** One RPC endpoint as the running process's metrics show it. */
export type EndpointReport = {
  endpoint: string;
  state: "healthy" | "resting" | "dead" | "unknown";
  requests: number | null;
  share: number | null;
  errors: number | null;
  latencyMs: number | null;
};

const STATES = ["healthy", "resting", "dead"] as const;

/**
 * The pool's endpoints from a Prometheus text (the slotline_rpc_endpoint_* series), one entry per configured
 * endpoint; `text` null (no process reachable) gives each endpoint state unknown.
 */
export function endpointsFromMetrics(
  config: Pick<Config, "SOLANA_RPC_ENDPOINTS" | "SOLANA_ARCHIVE_RPC">,
  text: string | null,
): EndpointReport[] {
  const names = [
    ...config.SOLANA_RPC_ENDPOINTS.map((e, i) => endpointName(e.url, i)),
    ...(config.SOLANA_ARCHIVE_RPC ? [endpointName(config.SOLANA_ARCHIVE_RPC.url, 0, true)] : []),
  ];
  const sum = (metric: string, name: string): number | null => {
    if (text === null) return null;
    let n: number | null = null;
    for (const line of text.split("\n"))
      if (line.startsWith(`${metric}{`) && line.includes(`endpoint="${name}"`))
        n = (n ?? 0) + Number(line.split(" ").at(-1));
    return n;
  };
  const total = names.reduce((n, name) => n + (sum("slotline_rpc_endpoint_requests_total", name) ?? 0), 0);
  return names.map((name) => {
    const state = sum("slotline_rpc_endpoint_state", name);
    const requests = sum("slotline_rpc_endpoint_requests_total", name);
    const seconds = sum("slotline_rpc_endpoint_seconds_sum", name);
    const count = sum("slotline_rpc_endpoint_seconds_count", name);
    return {
      endpoint: name,
      state: state === null ? "unknown" : (STATES[state] ?? "unknown"),
      requests: text === null ? null : (requests ?? 0),
      share: text === null ? null : total === 0 ? 0 : (requests ?? 0) / total,
      errors: text === null ? null : (sum("slotline_rpc_endpoint_errors_total", name) ?? 0),
      latencyMs: seconds !== null && count ? Math.round((seconds / count) * 1000) : null,
    };
  });
}

/** Reads the running process's /metrics; null when nothing answers within a second. */
async function fetchMetrics(url: string): Promise<string | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    return res.ok ? await res.text() : null;
  } catch {
    return null;
  }
}

/** Reads the status report; throws when the database is not migrated. */
export async function readStatus(ctx: Pick<Context, "db">, availableMigrations: number): Promise<StatusReport> {
  const { db } = ctx;
  const migrated = await db.execute<{ n: string }>(
    sql`select count(*)::text as n from information_schema.tables where table_schema = 'drizzle' and table_name = '__drizzle_migrations'`,
  );
  if (migrated.rows[0]?.n === "0") throw new Error("database is not migrated: run `npx slotline migrate`");
  const applied = await db.execute<{ n: string }>(sql`select count(*)::text as n from drizzle.__drizzle_migrations`);
  const cursors = await db.execute<{
    id: string;
    kind: string;
    status: string;
    slot: string | null;
    position: string | null;
    done: string;
    total: string | null;
    updated_at: string;
  }>(
    sql`select id, kind, status, slot::text, position, done::text, total::text, to_json(updated_at)#>>'{}' as updated_at from cursors order by id`,
  );
  const slotStats = await db.execute<{ status: string; n: string; hi: string | null }>(
    sql`select status, count(*)::text as n, max(slot)::text as hi from slots group by status`,
  );
  const dead = await db.execute<{ n: string }>(
    sql`select count(*)::text as n from dead_letters where retried_at is null`,
  );

  const live = cursors.rows.find((c) => c.kind === "live");
  const stat = (s: string) => slotStats.rows.find((r) => r.status === s);
  const num = (v: string | null | undefined) => (v == null ? null : Number(v));
  return {
    migrations: { applied: Number(applied.rows[0]?.n ?? 0), available: availableMigrations },
    live: live ? { resumeSlot: num(live.slot), status: live.status, updatedAt: live.updated_at } : null,
    backfills: cursors.rows
      .filter((c) => c.kind === "backfill")
      .map((c) => ({
        id: c.id,
        status: c.status,
        position: c.position ?? c.slot,
        done: Number(c.done),
        total: num(c.total),
        updatedAt: c.updated_at,
      })),
    slots: {
      indexed: Number(stat("indexed")?.n ?? 0),
      skipped: Number(stat("skipped")?.n ?? 0),
      rolledBack: Number(stat("rolled_back")?.n ?? 0),
      highestIndexed: num(stat("indexed")?.hi),
    },
    deadLetters: Number(dead.rows[0]?.n ?? 0),
  };
}

/** Renders the report for a terminal. */
export function formatStatus(r: StatusReport): string {
  const lines = [
    `migrations   ${r.migrations.applied} applied of ${r.migrations.available}${r.migrations.applied < r.migrations.available ? " (run `npx slotline migrate`)" : ""}`,
    `live cursor  ${r.live ? `resume slot ${r.live.resumeSlot ?? "-"} (${r.live.status}, updated ${r.live.updatedAt})` : "none (live ingest has not run)"}`,
    `slots        ${r.slots.indexed} indexed, ${r.slots.skipped} skipped, ${r.slots.rolledBack} rolled back; highest indexed ${r.slots.highestIndexed ?? "-"}`,
    `dead letters ${r.deadLetters}`,
    `backfills    ${r.backfills.length === 0 ? "none" : ""}`,
    ...r.backfills.map(
      (b) =>
        `  ${b.id}  ${b.status}  at ${b.position ?? "-"}  ${b.done}${b.total != null ? `/${b.total}` : ""}  (updated ${b.updatedAt})`,
    ),
  ];
  if (r.endpoints) {
    const reachable = r.endpoints.some((e) => e.state !== "unknown");
    lines.push(`rpc          ${reachable ? "" : "(no running process answered on METRICS_PORT)"}`);
    for (const e of r.endpoints)
      lines.push(
        reachable
          ? `  ${e.endpoint}  ${e.state}  ${e.requests} calls (${Math.round((e.share ?? 0) * 100)}%)  ${e.errors} errors  ${e.latencyMs ?? "-"} ms`
          : `  ${e.endpoint}  unknown`,
      );
  }
  return lines.join("\n");
}

function availableMigrations(): number {
  return readdirSync(MIGRATIONS_FOLDER).filter((f) => f.endsWith(".sql")).length;
}

/** Registers `status` on the program. */
export function registerStatus(program: Command): void {
  program
    .command("status")
    .description("print the live resume point, backfills in progress, slot counts and dead letters")
    .option("--json", "print JSON instead of text")
    .option(
      "--metrics-url <url>",
      "the running process's /metrics, for the RPC endpoints (default: METRICS_PORT on 127.0.0.1)",
    )
    .action((opts: { json?: boolean; metricsUrl?: string }) =>
      withContext(
        "slotline-status",
        async (ctx) => {
          const report = await readStatus(ctx, availableMigrations());
          const url = opts.metricsUrl ?? `http://127.0.0.1:${ctx.config.METRICS_PORT}/metrics`;
          report.endpoints = endpointsFromMetrics(ctx.config, ctx.config.METRICS_PORT ? await fetchMetrics(url) : null);
          process.stdout.write(`${opts.json ? JSON.stringify(report, null, 2) : formatStatus(report)}\n`);
        },
        { postgres: "existing-database" },
      ),
    );
}
