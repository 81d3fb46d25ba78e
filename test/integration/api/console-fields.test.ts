/**
 * The console's read-only fields: `deadLetters` (the newest not retried, error cut short, payload never served) and
 * `indexerStatus.rpcEndpoints` (the ingest's report in the status hash; [] when absent or malformed).
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { statusKey } from "../../../core/events.js";
import { createStore } from "../../../indexer/store/index.js";
import { type ApiHarness, setupApi } from "./harness.js";

describe("console fields", () => {
  let h: ApiHarness;
  let redis: Redis;
  beforeAll(async () => {
    redis = new Redis(inject("redisUrl"));
    h = await setupApi({ fill: false, context: { redis } });
  });
  afterAll(async () => {
    await redis.del(statusKey(h.prefix));
    redis.disconnect();
    await h.close();
  });

  test("deadLetters: the 10 newest not retried, newest first, error cut at 500 characters", async () => {
    const store = createStore({ db: h.writer });
    for (let i = 0; i < 12; i++)
      await store.recordDeadLetter({
        queue: "blocks",
        jobId: `slot-${i}`,
        jobName: "index-slots",
        payload: { slots: [i] },
        error: i === 11 ? "x".repeat(2_000) : `failed ${i}`,
        attempts: 3,
      });
    await h.sql.query(
      `update dead_letters set created_at = now() - make_interval(secs => 100 - cast(substr(job_id, 6) as int))`,
    );
    await h.sql.query(`update dead_letters set retried_at = now() where job_id = 'slot-10'`);
    const r = await h.gql(`{ deadLetters { jobId error attempts } }`);
    expect(r.body.errors).toBeUndefined();
    const list = r.body.data.deadLetters as { jobId: string; error: string }[];
    expect(list.map((d) => d.jobId)).toEqual([
      "slot-11",
      "slot-9",
      "slot-8",
      "slot-7",
      "slot-6",
      "slot-5",
      "slot-4",
      "slot-3",
      "slot-2",
      "slot-1",
    ]);
    expect(list[0]!.error).toHaveLength(500);
    expect(list[1]!.error).toBe("failed 9");
  });

  test("rpcEndpoints: as the ingest reported them; [] without a report or with a malformed one", async () => {
    const q = `{ indexerStatus { rpcEndpoints { endpoint archive state requests errors latencyMs p95Ms } } }`;
    const key = statusKey(h.prefix);
    expect((await h.gql(q)).body.data.indexerStatus.rpcEndpoints).toEqual([]);
    const report = [
      {
        endpoint: "1:rpc.example",
        archive: false,
        state: "resting",
        requests: 120,
        errors: 7,
        latencyMs: 85,
        p95Ms: 240,
      },
      {
        endpoint: "archive:old.example",
        archive: true,
        state: "healthy",
        requests: 0,
        errors: 0,
        latencyMs: null,
        p95Ms: null,
      },
    ];
    await redis.hset(key, { endpoints: JSON.stringify(report) });
    expect((await h.gql(q)).body.data.indexerStatus.rpcEndpoints).toEqual(report);
    await redis.hset(key, { endpoints: "{not json" });
    expect((await h.gql(q)).body.data.indexerStatus.rpcEndpoints).toEqual([]);
    await redis.hset(key, {
      endpoints: JSON.stringify([{ endpoint: "1:x", state: "healthy", requests: "many", errors: 0 }]),
    });
    expect((await h.gql(q)).body.data.indexerStatus.rpcEndpoints).toEqual([]);
  });
});
