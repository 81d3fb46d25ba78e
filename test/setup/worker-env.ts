/**
 * What the in-process worker tests share: the local chain over the recorded history (produced once, with a fault
 * spec the test can script), a database cloned from the migrated template, a pool on it and a Redis connection.
 */
import { Redis } from "ioredis";
import { inject } from "vitest";
import { createDb, type Db } from "../../core/db.js";
import { type Chain, createChain, type FaultSpec, parseFaults } from "../../devchain/index.js";
import { createTestDatabase } from "./services.js";

export type WorkerEnv = {
  chain: Chain;
  /** the chain's fault spec: push `rules`; `log.entries` holds every JSON-RPC call */
  spec: FaultSpec;
  database: Awaited<ReturnType<typeof createTestDatabase>>;
  db: Db;
  redis: Redis;
  close(): Promise<void>;
};

/** Starts the chain and clones the database; `close()` undoes it all. */
export async function setUpWorkerEnv(opts: { dbMax?: number } = {}): Promise<WorkerEnv> {
  const spec = parseFaults("");
  spec.log = { entries: [] };
  const chain = await createChain({ port: 0, once: true, faults: spec });
  const database = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
  const db = createDb(database.url, { max: opts.dbMax ?? 4 });
  const redis = new Redis(inject("redisUrl"), { maxRetriesPerRequest: null });
  return {
    chain,
    spec,
    database,
    db,
    redis,
    async close() {
      await redis.quit();
      await db.$client.end();
      await database.drop();
      await chain.close();
    },
  };
}
