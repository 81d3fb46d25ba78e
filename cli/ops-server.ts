/** The operations endpoint of ingest and worker processes: /metrics (Prometheus), /health, /ready. */
import http from "node:http";
import { type Logger, redactUrl, scrub } from "../core/logger.js";
import type { Metrics } from "../core/metrics.js";
import { type BlockQueue, liveJobId } from "../indexer/queue/index.js";
import type { RpcClient } from "../indexer/source/index.js";
import type { Store } from "../indexer/store/index.js";

/** Readiness: a reason it is not ready, or null when ready. */
export type ReadinessCheck = () => Promise<string | null>;

/** Health body; `status: "failed"` is served with HTTP 503. */
export type Health = Record<string, unknown> & { status?: "ok" | "failed" };

/** Attempts after which the slot the resume point waits on is reported as stuck. */
export const STUCK_AFTER_ATTEMPTS = 3;

/**
 * The daemon's health: failed once the RPC endpoint refused a request for good (a configuration problem), and,
 * with live ingest, the slot the resume point is stuck on: the lowest pending slot above it whose job has failed
 * STUCK_AFTER_ATTEMPTS times or was dead-lettered. Nothing is marked skipped for it; other slots go on.
 * @dev a dead-lettered slot is an alarm (status failed, HTTP 503, and /ready says why): the resume point cannot
 * pass it until an operator replays it (`slotline dead-letters retry`). One still being retried is only reported.
 */
export async function daemonHealth(
  rt: { rpc: RpcClient; store: Store; queue: BlockQueue },
  ingest?: { resumeSlot: number | null },
): Promise<Health> {
  const out: Health = {};
  const failure = rt.rpc.failure();
  if (failure) Object.assign(out, { status: "failed", rpcFailure: failure });
  if (!ingest || ingest.resumeSlot === null) return out;
  const [slot] = await rt.store.pendingSlots(ingest.resumeSlot, 1);
  if (slot === undefined) return out;
  const job = await rt.queue.queue.getJob(liveJobId(slot));
  const state = job ? await job.getState() : "missing";
  const attempts = job?.attemptsMade ?? 0;
  if (attempts >= STUCK_AFTER_ATTEMPTS || state === "failed") {
    const deadLettered = state === "failed";
    Object.assign(out, {
      stuckSlot: slot,
      stuck: { slot, attempts, deadLettered, error: job?.failedReason?.slice(0, 300) ?? null },
    });
    if (deadLettered) out.status = "failed";
  }
  return out;
}

/** The reason a daemon is not ready because its resume point waits on a dead-lettered slot, or null. */
export function stuckReason(health: Health): string | null {
  const stuck = health.stuck as { slot: number; deadLettered: boolean; error: string | null } | undefined;
  if (!stuck?.deadLettered) return null;
  return `resume point stuck below slot ${stuck.slot}: its job was dead-lettered (${stuck.error ?? "no error recorded"}); fix the cause, then \`slotline dead-letters retry\``;
}

/** Anything URL-shaped in a served text, up to a closing bracket or punctuation that ends a sentence. */
const URL_IN_TEXT = /\b(?:https?|wss?|postgres(?:ql)?|rediss?):\/\/[^\s"'<>\\]*[^\s"'<>\\).,;:]/g;

/** A key quoted alone is as secret as the URL part holding it: path segments and query values of 12+ characters. */
function withParts(secrets: readonly string[]): string[] {
  const out = new Set(secrets);
  for (const s of secrets) for (const part of s.split(/[/?&=]/)) if (part.length >= 12) out.add(part);
  return [...out].sort((a, b) => b.length - a.length);
}

/**
 * A body for /health or /ready without secrets: every URL in it shown as redactUrl shows it, then every configured
 * secret (secretsOf) and each key-sized part of one replaced.
 * @dev error messages are copied from RPC answers and job failures, and an RPC provider's answer (or Node's own
 * error) may quote the endpoint URL, or the key alone, from its path or query; the ops port has no API keys.
 */
export function scrubServed(body: string, secrets: readonly string[]): string {
  return scrub(
    body.replace(URL_IN_TEXT, (u) => redactUrl(u)),
    withParts(secrets),
  );
}

/** Starts the server on `port` (0 = any free port); returns its port and a close function. */
export async function startOpsServer(opts: {
  port: number;
  metrics: Metrics;
  logger: Logger;
  ready: ReadinessCheck;
  health?: () => Health | Promise<Health>;
  /** the configured secrets (core/logger's secretsOf), scrubbed from /health and /ready */
  secrets?: readonly string[];
}) {
  const secrets = opts.secrets ?? [];
  const server = http.createServer(async (req, res) => {
    try {
      if (req.url === "/metrics") {
        res.writeHead(200, { "content-type": opts.metrics.registry.contentType });
        res.end(await opts.metrics.registry.metrics());
      } else if (req.url === "/health") {
        const body = { status: "ok", ...(await opts.health?.()) };
        res.writeHead(body.status === "failed" ? 503 : 200, { "content-type": "application/json" });
        res.end(scrubServed(JSON.stringify(body), secrets));
      } else if (req.url === "/ready") {
        const reason = await opts.ready();
        res.writeHead(reason ? 503 : 200, { "content-type": "application/json" });
        res.end(scrubServed(JSON.stringify(reason ? { status: "not ready", reason } : { status: "ready" }), secrets));
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
