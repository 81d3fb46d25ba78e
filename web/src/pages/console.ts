/**
 * The operator console: where the indexer stands (chain tip, resume point, finalized slot, lag, live), how fast it
 * stores (transactions a second, from the slots subscription), queue depth, each worker's state, the ingest's RPC endpoints, backfills with
 * progress and ETA, and the newest dead letters. Read-only, like the API.
 */
import { gql, subscribe } from "../api.js";
import { liveLine } from "../chart.js";
import { h, stat, table } from "../dom.js";
import { CONSOLE, CONSOLE_POLL_MS as POLL_MS, CONSOLE_SLOTS } from "../queries.js";
import { type PageContext, section, when } from "./common.js";

/** The window stored transactions a second are averaged over. */
const RATE_WINDOW_MS = 10_000;

type Backfill = {
  id: string;
  status: string;
  slot: number | null;
  position: string | null;
  done: number;
  total: number | null;
  error: string | null;
  updatedAt: string;
};

/** "1 h 02 min", "45 s": an ETA. */
function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "–";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

export async function consolePage(ctx: PageContext): Promise<Node> {
  const figures = h("div", { class: "stats" });
  const lagBox = h("div", { class: "chart small" });
  const backfillBox = h("div", {});
  const deadBox = h("div", {});
  const rpcBox = h("div", {});
  const workerBox = h("div", {});
  const txRate = h("span", { class: "value" }, "–");
  const page = h(
    "div",
    { class: "page", "data-page": "console" },
    h("h1", {}, "Indexer console"),
    figures,
    h(
      "div",
      { class: "stats" },
      h("div", { class: "stat", "data-stat": "Stored tx/s" }, h("span", { class: "label" }, "Stored tx/s"), txRate),
    ),
    section("Lag behind the chain tip (slots)", lagBox),
    section("Workers", workerBox),
    section("RPC endpoints", rpcBox),
    section("Backfills", backfillBox),
    section("Dead letters (newest)", deadBox),
  );
  const lag = liveLine(lagBox, "#f0b429");
  const seen = new Map<string, { done: number; at: number; rate: number | null }>();

  const poll = async () => {
    const { indexerStatus: s, deadLetters } = await gql<{ indexerStatus: any; deadLetters: any[] }>(
      CONSOLE,
      {},
      ctx.signal,
    );
    figures.replaceChildren(
      stat("Chain tip", s.chainTip ?? "–"),
      stat("Latest stored", s.latestSlot ?? "–"),
      stat("Resume point", s.resumeSlot ?? "–"),
      stat("Finalized", s.finalizedSlot ?? "–"),
      stat("Lag (slots)", s.lagSlots ?? "–"),
      stat("Lag (time)", s.lagSeconds == null ? "–" : duration(s.lagSeconds), s.latestBlockTime ?? undefined),
      stat("Queue depth", s.queueDepth ?? "–"),
      stat("Status updated", when(s.statusUpdatedAt)),
    );
    if (s.lagSlots != null) lag.push(s.lagSlots);
    const now = performance.now();
    backfillBox.replaceChildren(
      table(
        ["Backfill", "Status", "Progress", "Done", "Rate", "ETA", "Next", "Error"],
        (s.backfills as Backfill[]).map((b) => {
          const prev = seen.get(b.id);
          let rate = prev?.rate ?? null;
          if (prev && b.done > prev.done) {
            const r = ((b.done - prev.done) * 1000) / (now - prev.at);
            rate = rate == null ? r : 0.7 * rate + 0.3 * r;
          }
          if (!prev || b.done !== prev.done) seen.set(b.id, { done: b.done, at: now, rate });
          const pct = b.total ? Math.min(100, (100 * b.done) / b.total) : null;
          const eta = b.total != null && rate ? (b.total - b.done) / rate : Number.NaN;
          return [
            b.id,
            b.status,
            h(
              "div",
              {
                class: "progress",
                "data-progress": pct == null ? "" : pct.toFixed(1),
                title: pct == null ? "total unknown" : `${pct.toFixed(1)}%`,
              },
              h("div", { class: "bar", style: `width:${pct ?? 0}%` }),
            ),
            `${b.done}${b.total == null ? "" : ` / ${b.total}`}`,
            rate == null ? "–" : `${rate.toFixed(1)}/s`,
            b.status === "running" ? duration(eta) : "–",
            b.slot ?? b.position ?? "–",
            b.error ?? "",
          ];
        }),
        "No backfill running.",
      ),
    );
    workerBox.replaceChildren(
      table(
        ["Worker", "State", "Running", "Completed", "Failed", "Last report"],
        (s.workers as any[]).map((x) => [
          x.id,
          h("span", { class: `state-${x.state}` }, x.state),
          `${x.active} / ${x.concurrency}`,
          x.completed,
          x.failed,
          when(x.updatedAt),
        ]),
        "No worker has reported in the last 10 minutes.",
      ),
    );
    rpcBox.replaceChildren(
      table(
        ["Endpoint", "State", "Requests", "Errors", "Latency (mean)", "Latency (p95)"],
        (s.rpcEndpoints as any[]).map((e) => [
          `${e.endpoint}${e.archive ? " (archive)" : ""}`,
          h("span", { class: `state-${e.state}` }, e.state),
          e.requests,
          e.errors,
          e.latencyMs == null ? "–" : `${e.latencyMs} ms`,
          e.p95Ms == null ? "–" : `${e.p95Ms} ms`,
        ]),
        "The ingest has not reported its endpoints (not running, or an older version).",
      ),
    );
    deadBox.replaceChildren(
      table(
        ["Created", "Queue", "Job", "Attempts", "Error"],
        deadLetters.map((d) => [
          when(d.createdAt),
          d.queue,
          h("span", { title: d.jobName }, d.jobId),
          d.attempts,
          h("code", {}, d.error),
        ]),
        "No dead letter.",
      ),
    );
  };
  await poll();
  const timer = setInterval(() => void poll().catch(() => {}), POLL_MS);
  ctx.signal.addEventListener("abort", () => clearInterval(timer));

  const stored: { at: number; txs: number }[] = [];
  const showRate = () => {
    const now = performance.now();
    while (stored.length && now - stored[0]!.at > RATE_WINDOW_MS) stored.shift();
    const txs = stored.reduce((n, x) => n + x.txs, 0);
    txRate.textContent = (txs / (RATE_WINDOW_MS / 1000)).toFixed(1);
  };
  const rateTimer = setInterval(showRate, 1_000);
  ctx.signal.addEventListener("abort", () => clearInterval(rateTimer));
  void subscribe<{ slots: { txCount: number } }>(
    CONSOLE_SLOTS,
    {},
    ({ slots }) => {
      stored.push({ at: performance.now(), txs: slots.txCount });
      showRate();
    },
    ctx.signal,
  );
  return page;
}
