/** WorkerState: each block worker as it last reported itself in the workers hash (read-only, from Redis). */
import { builder } from "./builder.js";
import type { RequestContext } from "../context.js";
import { WORKER_HEARTBEAT_MS, type WorkerHeartbeat, workersKey } from "../../core/events.js";

/** How long to wait for Redis before answering without it. */
const REDIS_TIMEOUT_MS = 250;
/** A worker that has not reported for this long is shown as silent (it died, or cannot reach Redis). */
const SILENT_AFTER_MS = 3 * WORKER_HEARTBEAT_MS;
/** A silent worker is left out after this long (an entry is pruned after an hour). */
const FORGET_AFTER_MS = 600_000;
/** Most workers listed: the guards price this plain list at listMultiplier items, a fleet is summed in `/metrics`. */
export const WORKERS_SHOWN = 10;

type Row = WorkerHeartbeat & { silent: boolean };

/** The workers that reported in the last 10 minutes, busiest first; [] when Redis is absent, slow or down. */
export async function readWorkers(ctx: Pick<RequestContext, "app">, now = Date.now()): Promise<Row[]> {
  const redis = ctx.app.redis;
  if (!redis) return [];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), REDIS_TIMEOUT_MS)));
  try {
    const all = await Promise.race([redis.hgetall(workersKey(ctx.app.config.QUEUE_PREFIX)).catch(() => null), timeout]);
    const rows: Row[] = [];
    for (const v of Object.values(all ?? {})) {
      let w: Partial<WorkerHeartbeat>;
      try {
        w = JSON.parse(v) as Partial<WorkerHeartbeat>;
      } catch {
        continue;
      }
      const ints = [w.active, w.completed, w.failed, w.concurrency, w.startedAt, w.updatedAt];
      if (typeof w.id !== "string" || !ints.every((n) => Number.isSafeInteger(n))) continue;
      const age = now - w.updatedAt!;
      if (age > FORGET_AFTER_MS) continue;
      const state = w.state === "busy" || w.state === "paused" ? w.state : "idle";
      rows.push({ ...(w as WorkerHeartbeat), state, silent: age > SILENT_AFTER_MS });
    }
    return rows
      .sort((a, b) => Number(a.silent) - Number(b.silent) || b.active - a.active || (a.id < b.id ? -1 : 1))
      .slice(0, WORKERS_SHOWN);
  } finally {
    clearTimeout(timer);
  }
}

/** The GraphQL type. */
export const WorkerState = builder.objectRef<Row>("WorkerState").implement({
  description: "A block worker as it last reported itself (every 5 s).",
  fields: (t) => ({
    id: t.exposeString("id", { description: "host:pid:tag" }),
    state: t.string({
      description: "idle, busy, paused, or silent (no report for 15 s: stopped without closing, or cut from Redis)",
      resolve: (w) => (w.silent ? "silent" : w.state),
    }),
    active: t.exposeInt("active", { description: "jobs running now" }),
    concurrency: t.exposeInt("concurrency"),
    completed: t.exposeInt("completed", { description: "jobs done since it started" }),
    failed: t.exposeInt("failed", { description: "job attempts failed since it started" }),
    startedAt: t.field({ type: "DateTime", resolve: (w) => new Date(w.startedAt) }),
    updatedAt: t.field({ type: "DateTime", resolve: (w) => new Date(w.updatedAt) }),
  }),
});
