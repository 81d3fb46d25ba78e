/**
 * A worker's heartbeat: every WORKER_HEARTBEAT_MS it writes its state and counters to the deployment's workers hash,
 * which the API's `indexerStatus.workers` reads; it removes its entry when it closes. Entries of workers that died
 * without closing stop being refreshed (the API shows them as silent) and are pruned after an hour by any worker.
 */
import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import type { Worker } from "bullmq";
import type { Redis } from "ioredis";
import { WORKER_HEARTBEAT_MS, type WorkerHeartbeat, workersKey } from "../../core/events.js";

/** How long an entry that is no longer refreshed stays before a worker prunes it. */
const PRUNE_AFTER_MS = 3_600_000;

/** Starts reporting `worker` under `prefix`; stops with the worker. */
export function startHeartbeat(worker: Worker, redis: Redis, prefix: string, concurrency: number): void {
  const key = workersKey(prefix);
  const id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 4)}`;
  const me: WorkerHeartbeat = {
    id,
    state: "idle",
    active: 0,
    completed: 0,
    failed: 0,
    concurrency,
    startedAt: Date.now(),
    updatedAt: Date.now(),
  };
  worker.on("active", () => void me.active++);
  worker.on("completed", () => {
    me.active = Math.max(0, me.active - 1);
    me.completed++;
  });
  worker.on("failed", () => {
    me.active = Math.max(0, me.active - 1);
    me.failed++;
  });
  const beat = async () => {
    me.state = worker.isPaused() ? "paused" : me.active > 0 ? "busy" : "idle";
    me.updatedAt = Date.now();
    await redis.hset(key, id, JSON.stringify(me));
  };
  const prune = async () => {
    const all = await redis.hgetall(key);
    const stale = Object.entries(all).filter(([, v]) => {
      const at = Number((JSON.parse(v) as Partial<WorkerHeartbeat>).updatedAt);
      return !Number.isFinite(at) || Date.now() - at > PRUNE_AFTER_MS;
    });
    if (stale.length) await redis.hdel(key, ...stale.map(([k]) => k));
  };
  // Redis down: the next beat tries again; the heartbeat never fails the worker
  void beat().catch(() => {});
  void prune().catch(() => {});
  const timer = setInterval(() => void beat().catch(() => {}), WORKER_HEARTBEAT_MS);
  timer.unref();
  worker.on("closing", () => {
    clearInterval(timer);
    void redis.hdel(key, id).catch(() => {});
  });
}
