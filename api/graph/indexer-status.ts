/** IndexerStatus: stored progress from Postgres, chain tip and queue depth from the indexer's Redis status hash. */
import { builder } from "./builder.js";
import type { RequestContext } from "../context.js";
import { type IndexerStatusHash, statusKey } from "../../core/events.js";
import { type StoredProgress, openBackfills, storedProgress } from "../queries/index.js";
import { Backfill } from "./refs.js";
import { RpcEndpoint, parseEndpoints } from "./rpc-endpoint.js";
import { WORKERS_SHOWN, WorkerState, readWorkers } from "./worker-state.js";

/** How long to wait for Redis before answering without it. */
const REDIS_TIMEOUT_MS = 250;

type Status = StoredProgress & { hash: IndexerStatusHash | null };

/** Reads the status hash; null when Redis is absent, slow or down (the fields then read null). */
export async function readStatusHash(ctx: Pick<RequestContext, "app">): Promise<IndexerStatusHash | null> {
  const redis = ctx.app.redis;
  if (!redis) return null;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), REDIS_TIMEOUT_MS)));
  try {
    const h = await Promise.race([redis.hgetall(statusKey(ctx.app.config.QUEUE_PREFIX)).catch(() => null), timeout]);
    return h && Object.keys(h).length ? (h as IndexerStatusHash) : null;
  } finally {
    clearTimeout(timer);
  }
}

const num = (v: string | undefined): number | null => (v != null && /^\d+$/.test(v) ? Number(v) : null);

const IndexerStatus = builder.objectRef<Status>("IndexerStatus").implement({
  description:
    "Where the indexer is. Slots and times come from Postgres; chainTip and queueDepth from the indexer's status in Redis.",
  fields: (t) => ({
    latestSlot: t.exposeInt("latestSlot", { nullable: true, description: "newest stored (indexed) slot" }),
    latestBlockTime: t.expose("latestBlockTime", { type: "DateTime", nullable: true }),
    resumeSlot: t.exposeInt("resumeSlot", {
      nullable: true,
      description: "every produced slot at or below it is stored",
    }),
    finalizedSlot: t.int({
      nullable: true,
      description: "newest stored slot known finalized (or the chain's, from the indexer, if newer)",
      resolve: (s) => {
        const chain = num(s.hash?.finalizedSlot);
        return s.finalizedSlot == null ? chain : chain == null ? s.finalizedSlot : Math.max(s.finalizedSlot, chain);
      },
    }),
    chainTip: t.int({
      nullable: true,
      description: "newest slot the indexer saw on the chain",
      resolve: (s) => num(s.hash?.chainTip),
    }),
    lagSlots: t.int({
      nullable: true,
      description: "chainTip - latestSlot",
      resolve: (s) => {
        const tip = num(s.hash?.chainTip);
        return tip == null || s.latestSlot == null ? null : Math.max(0, tip - s.latestSlot);
      },
    }),
    lagSeconds: t.float({
      nullable: true,
      description: "wall-clock seconds since the newest stored block's time",
      resolve: (s) => (s.latestBlockTime ? Math.max(0, (Date.now() - s.latestBlockTime.getTime()) / 1000) : null),
    }),
    queueDepth: t.int({
      nullable: true,
      description: "jobs waiting in the indexer's queue",
      resolve: (s) => num(s.hash?.queueDepth),
    }),
    statusUpdatedAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "when the indexer last updated chainTip/queueDepth",
      resolve: (s) => (num(s.hash?.updatedAt) == null ? null : new Date(num(s.hash?.updatedAt)!)),
    }),
    workers: t.field({
      type: [WorkerState],
      description: `block workers that reported in the last 10 minutes, busiest first (at most ${WORKERS_SHOWN})`,
      resolve: (_s, _a, ctx) => readWorkers(ctx),
    }),
    rpcEndpoints: t.field({
      type: [RpcEndpoint],
      description: "the ingest's RPC endpoints and their health, as it last reported them ([] before it has)",
      resolve: (s) => parseEndpoints(s.hash?.endpoints),
    }),
    backfills: t.field({
      type: [Backfill],
      description: "backfills not done yet (running, paused or failed)",
      resolve: (_s, _a, ctx) => openBackfills(ctx.reader),
    }),
  }),
});

Backfill.implement({
  description: "A backfill's progress.",
  fields: (t) => ({
    id: t.exposeString("id"),
    status: t.exposeString("status"),
    slot: t.exposeInt("slot", { nullable: true, description: "next slot to do" }),
    position: t.exposeString("position", { nullable: true, description: "next signature to do (address backfills)" }),
    params: t.expose("params", { type: "JSON" }),
    done: t.exposeInt("done"),
    total: t.exposeInt("total", { nullable: true }),
    error: t.exposeString("error", { nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
  }),
});

builder.queryField("indexerStatus", (t) =>
  t.field({
    type: IndexerStatus,
    resolve: async (_r, _a, ctx) => {
      const [stored, hash] = await Promise.all([storedProgress(ctx.reader), readStatusHash(ctx)]);
      return { ...stored, hash };
    },
  }),
);
