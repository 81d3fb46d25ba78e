/** `slotline status`: migrations, the live resume point, backfills, slots and dead letters, from Postgres. */
import { readdirSync } from "node:fs";
import type { Command } from "commander";
import { sql } from "drizzle-orm";
import type { Context } from "../../core/context.js";
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
};

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
    .action((opts: { json?: boolean }) =>
      withContext(
        "slotline-status",
        async (ctx) => {
          const report = await readStatus(ctx, availableMigrations());
          process.stdout.write(`${opts.json ? JSON.stringify(report, null, 2) : formatStatus(report)}\n`);
        },
        { postgres: "existing-database" },
      ),
    );
}
