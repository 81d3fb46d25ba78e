import http from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { daemonHealth, scrubServed, startOpsServer, stuckReason } from "../../../cli/ops-server.js";
import { parseConfig } from "../../../core/config.js";
import { createLogger, secretsOf } from "../../../core/logger.js";
import { createMetrics } from "../../../core/metrics.js";
import { createRpcClient, RpcFatalError } from "../../../indexer/source/rpc.js";

const PATH_KEY = "pathkey-5f2c9a7e11";
const QUERY_KEY = "querykey-83be04d6";

// An RPC provider that refuses the key and, as some do, quotes the request URL (and the key alone) in its answer.
function refusingRpc() {
  return http.createServer((req, res) => {
    req.resume();
    const url = `http://${req.headers.host}${req.url}`;
    res.writeHead(401, { "content-type": "text/plain" }).end(`key ${PATH_KEY} is not valid for ${url}`);
  });
}

describe("ops server", () => {
  const rpcServer = refusingRpc();
  let rpcUrl: string;
  let ops: Awaited<ReturnType<typeof startOpsServer>>;

  beforeAll(async () => {
    await new Promise<void>((r) => rpcServer.listen(0, "127.0.0.1", r));
    rpcUrl = `http://127.0.0.1:${(rpcServer.address() as { port: number }).port}/v2/${PATH_KEY}?api-key=${QUERY_KEY}`;
    const config = parseConfig({ SOLANA_RPC_URL: rpcUrl, LOG_LEVEL: "silent" });
    const rpc = createRpcClient({ url: rpcUrl, maxRps: 100, concurrency: 1, batchSize: 1, timeoutMs: 5_000 });
    await expect(rpc.call("getSlot")).rejects.toBeInstanceOf(RpcFatalError);
    // a dead letter whose job failed on the same answer: /ready quotes it
    const stuck = { slot: 7, deadLettered: true, error: rpc.failure()?.message ?? null };
    ops = await startOpsServer({
      port: 0,
      metrics: createMetrics(),
      logger: createLogger(config),
      secrets: secretsOf(config),
      // no live ingest: daemonHealth reads only the RPC client's failure
      health: () => daemonHealth({ rpc, store: undefined as never, queue: undefined as never }),
      ready: async () => stuckReason({ stuck }),
    });
  });
  afterAll(async () => {
    await ops?.close();
    rpcServer.close();
  });

  test("/health reports the RPC failure without the endpoint's key, in the path or the query", async () => {
    const res = await fetch(`http://127.0.0.1:${ops.port}/health`);
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(text).not.toContain(PATH_KEY);
    expect(text).not.toContain(QUERY_KEY);
    const body = JSON.parse(text) as { status: string; rpcFailure: { method: string; code: string; message: string } };
    expect(body.status).toBe("failed");
    expect(body.rpcFailure).toMatchObject({ method: "getSlot", code: "http_401" });
    // still says what happened and where, with the secret parts hidden
    expect(body.rpcFailure.message).toMatch(
      /^HTTP 401: key \[redacted\] is not valid for http:\/\/127\.0\.0\.1:\d+\/\*\*\*\?\*\*\*$/,
    );
  });

  test("/ready's reason (a dead letter's error) is scrubbed the same way", async () => {
    const res = await fetch(`http://127.0.0.1:${ops.port}/ready`);
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(text).not.toContain(PATH_KEY);
    expect(text).not.toContain(QUERY_KEY);
    expect(JSON.parse(text).reason).toMatch(
      /stuck below slot 7: its job was dead-lettered \(HTTP 401: key \[redacted\] is not valid for http:\/\/127\.0\.0\.1:\d+\/\*\*\*\?\*\*\*\); fix/,
    );
  });

  test("scrubServed hides passwords of database and Redis URLs and keeps other text as it is", () => {
    const text = JSON.stringify({
      error: "connect to postgres://api:s3cretpw@db:5432/slotline failed; redis://:hunter22@redis:6379 too",
    });
    const out = scrubServed(text, []);
    expect(out).not.toContain("s3cretpw");
    expect(out).not.toContain("hunter22");
    expect(JSON.parse(out).error).toBe(
      "connect to postgres://api:***@db:5432/slotline failed; redis://:***@redis:6379 too",
    );
  });
});
