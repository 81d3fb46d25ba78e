/** The operations endpoint of ingest and worker processes: /metrics (Prometheus), /health, /ready. */
import http from "node:http";
import type { Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";

/** Readiness: a reason it is not ready, or null when ready. */
export type ReadinessCheck = () => Promise<string | null>;

/** Starts the server on `port` (0 = any free port); returns its port and a close function. */
export async function startOpsServer(opts: { port: number; metrics: Metrics; logger: Logger; ready: ReadinessCheck; health?: () => Record<string, unknown> }) {
  const server = http.createServer(async (req, res) => {
    try {
      if (req.url === "/metrics") {
        res.writeHead(200, { "content-type": opts.metrics.registry.contentType });
        res.end(await opts.metrics.registry.metrics());
      } else if (req.url === "/health") {
        const body = { status: "ok", ...opts.health?.() };
        res.writeHead(body.status === "failed" ? 503 : 200, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      } else if (req.url === "/ready") {
        const reason = await opts.ready();
        res.writeHead(reason ? 503 : 200, { "content-type": "application/json" });
        res.end(JSON.stringify(reason ? { status: "not ready", reason } : { status: "ready" }));
      } else {
        res.writeHead(404).end();
      }
    } catch (err) {
      opts.logger.error({ err }, "ops endpoint failed");
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "0.0.0.0", resolve);
  });
  const port = (server.address() as { port: number }).port;
  opts.logger.info({ port }, "ops endpoint listening (/metrics, /health, /ready)");
  return { port, close: () => new Promise<void>((r) => server.close(() => r())) };
}
