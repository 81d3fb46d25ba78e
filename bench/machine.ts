/** What the bench ran on: cores, memory, Node, Postgres and Redis versions. */
import os from "node:os";
import { Redis } from "ioredis";
import pg from "pg";

/** Machine description printed with every bench run. */
export type Machine = {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  postgres: string;
  redis: string;
  date: string;
};

/** Reads the machine description; service versions come from the servers the bench uses. */
export async function describeMachine(pgUrl: string, redisUrl: string): Promise<Machine> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  const pgVersion =
    (await client.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]?.v ?? "?";
  await client.end();
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  const info = await redis.info("server");
  redis.disconnect();
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "?",
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    postgres: pgVersion,
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? "?",
    date: new Date().toISOString(),
  };
}
