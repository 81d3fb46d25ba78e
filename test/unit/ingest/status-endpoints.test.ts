/** What the ingest puts in the status hash about its RPC endpoints: names and counters, never an endpoint's URL. */
import { describe, expect, test } from "vitest";
import { endpointsOf } from "../../../indexer/ingest/index.js";
import { createRpcPool } from "../../../indexer/source/index.js";

describe("status hash endpoints", () => {
  test("a pool's endpoints by position and host, with their state; no path or query", () => {
    const pool = createRpcPool({
      endpoints: [{ url: "https://rpc.example/v1/?api-key=SECRET" }, { url: "http://127.0.0.1:8899" }],
      archive: { url: "https://old.example/KEY123" },
      maxRps: 10,
      concurrency: 1,
      batchSize: 1,
      timeoutMs: 1_000,
    });
    const json = endpointsOf(pool)!;
    expect(json).not.toMatch(/SECRET|KEY123|api-key/);
    expect(JSON.parse(json)).toEqual([
      {
        endpoint: "1:rpc.example",
        archive: false,
        state: "healthy",
        requests: 0,
        errors: 0,
        latencyMs: null,
        p95Ms: null,
      },
      {
        endpoint: "2:127.0.0.1:8899",
        archive: false,
        state: "healthy",
        requests: 0,
        errors: 0,
        latencyMs: null,
        p95Ms: null,
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
    ]);
  });

  test("a client that is no pool reports nothing", () => {
    expect(endpointsOf({ call: async () => null } as never)).toBeUndefined();
  });
});
