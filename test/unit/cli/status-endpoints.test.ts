import { describe, expect, test } from "vitest";
import { parseConfig } from "../../../core/config.js";
import { createMetrics } from "../../../core/metrics.js";
import { endpointsFromMetrics, formatStatus, type StatusReport } from "../../../cli/commands/status.js";

describe("slotline status: the RPC endpoints", () => {
  const config = parseConfig({
    SOLANA_RPC_URL: "https://a.example/secret-key?rps=10,https://b.example?api-key=zzz",
    SOLANA_ARCHIVE_RPC_URL: "https://archive.example",
  });

  test("state, share, errors and mean latency per endpoint from the process's metrics; no URL secrets", async () => {
    const m = createMetrics();
    m.rpcEndpointState.set({ endpoint: "1:a.example" }, 1);
    m.rpcEndpointState.set({ endpoint: "2:b.example" }, 0);
    m.rpcEndpointState.set({ endpoint: "archive:archive.example" }, 2);
    m.rpcEndpointRequests.inc({ endpoint: "1:a.example" }, 25);
    m.rpcEndpointRequests.inc({ endpoint: "2:b.example" }, 75);
    m.rpcEndpointErrors.inc({ endpoint: "1:a.example", kind: "http_429" }, 3);
    m.rpcEndpointErrors.inc({ endpoint: "1:a.example", kind: "timeout" }, 2);
    m.rpcEndpointLatency.observe({ endpoint: "2:b.example" }, 0.01);
    m.rpcEndpointLatency.observe({ endpoint: "2:b.example" }, 0.03);
    const eps = endpointsFromMetrics(config, await m.registry.metrics());
    expect(eps).toEqual([
      { endpoint: "1:a.example", state: "resting", requests: 25, share: 0.25, errors: 5, latencyMs: null },
      { endpoint: "2:b.example", state: "healthy", requests: 75, share: 0.75, errors: 0, latencyMs: 20 },
      { endpoint: "archive:archive.example", state: "dead", requests: 0, share: 0, errors: 0, latencyMs: null },
    ]);
    const text = formatStatus({
      migrations: { applied: 1, available: 1 },
      live: null,
      backfills: [],
      slots: { indexed: 0, skipped: 0, rolledBack: 0, highestIndexed: null },
      deadLetters: 0,
      endpoints: eps,
    } satisfies StatusReport);
    expect(text).toMatch(/1:a\.example {2}resting {2}25 calls \(25%\) {2}5 errors/);
    expect(text).not.toMatch(/secret-key|zzz/);
  });

  test("no process reachable: every configured endpoint, state unknown", () => {
    expect(endpointsFromMetrics(config, null).map((e) => [e.endpoint, e.state, e.requests])).toEqual([
      ["1:a.example", "unknown", null],
      ["2:b.example", "unknown", null],
      ["archive:archive.example", "unknown", null],
    ]);
  });
});
