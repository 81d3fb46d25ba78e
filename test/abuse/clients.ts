/**
 * The abuse suite's clients, one kind per child process: `node --import tsx test/abuse/clients.ts <kind> <json>`.
 * Each says "ready" on stdout once it is set up, starts on a "go" line on stdin, stops on a "stop" line (or after
 * its `ms`), and prints its tally as one JSON line. The abusers run at `nice -n 19` (started so by the suite), the
 * dashboard client and the health probe at normal priority. Clients are told apart by their source address: each
 * binds a loopback address of its own (127.0.x.y), as separate hosts would be, so the API needs no proxy header.
 */
import { Agent, request } from "node:http";
import { connect, type Socket } from "node:net";
import { createInterface } from "node:readline";
import WebSocket from "ws";

type Tally = Record<string, number>;
const bump = (t: Tally, k: string, n = 1) => void (t[k] = (t[k] ?? 0) + n);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The first error code in a GraphQL answer's text, or null. */
const codeIn = (text: string) => /"code":"([A-Z_]+)"/.exec(text)?.[1] ?? null;

/** Resolves at the first stdin line equal to `word`; a closed stdin counts as "stop". */
function lines() {
  const rl = createInterface({ input: process.stdin });
  const waiters = new Map<string, () => void>();
  const seen = new Set<string>();
  rl.on("line", (l) => {
    seen.add(l.trim());
    waiters.get(l.trim())?.();
  });
  rl.on("close", () => {
    seen.add("go");
    seen.add("stop");
    waiters.get("go")?.();
    waiters.get("stop")?.();
  });
  return (word: string) =>
    seen.has(word) ? Promise.resolve() : new Promise<void>((r) => waiters.set(word, () => (seen.add(word), r())));
}
const awaitLine = lines();
const say = (o: unknown) => process.stdout.write(`${typeof o === "string" ? o : JSON.stringify(o)}\n`);

/** One POST; resolves with its status and body text (status 0: no answer). */
function post(
  agent: Agent,
  url: string,
  body: string,
  timeoutMs = 30_000,
): Promise<{ status: number; text: string; ms: number }> {
  const t = performance.now();
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: "POST",
        agent,
        timeout: timeoutMs,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text, ms: performance.now() - t }));
        res.on("error", () => resolve({ status: 0, text, ms: performance.now() - t }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (err) => resolve({ status: 0, text: err.message, ms: performance.now() - t }));
    req.end(body);
  });
}

/** Agents for `addresses`, each binding its own source address. */
const agentsFor = (addresses: string[], maxSockets: number) =>
  addresses.map((localAddress) => new Agent({ keepAlive: true, maxSockets, localAddress }));

/**
 * The dashboard client: `rps` page requests a second for `ms`, open loop, the pages in turn, its users spread over
 * `addresses`. A trailing comment makes each document distinct, so neither the response cache nor the parse cache
 * answers: every request runs its SQL. Prints every latency.
 */
async function dashboard(o: { url: string; pages: string[]; rps: number; ms: number; addresses: string[] }) {
  const agents = agentsFor(o.addresses, 16);
  // warm-up, not measured: the first documents compile and the pool opens its connections. Spread over the users as
  // the measured requests are: from one address, back to back, the pages would spend its budget's burst.
  for (let i = 0; i < 2 * o.pages.length; i++)
    await post(
      agents[i % agents.length]!,
      o.url,
      JSON.stringify({ query: `${o.pages[i % o.pages.length]} # warm ${i}` }),
    );
  say("ready");
  await awaitLine("go");
  const latencies: number[] = [];
  const codes: Tally = {};
  const sends: Promise<void>[] = [];
  const started = performance.now();
  for (let i = 0; i < (o.ms / 1000) * o.rps; i++) {
    await sleep(Math.max(0, started + (i * 1000) / o.rps - performance.now()));
    const body = JSON.stringify({ query: `${o.pages[i % o.pages.length]} # ${process.pid} ${i}` });
    sends.push(
      post(agents[i % agents.length]!, o.url, body).then((r) => {
        const code = r.status === 200 && !r.text.includes('"errors"') ? "OK" : (codeIn(r.text) ?? `HTTP_${r.status}`);
        bump(codes, code);
        if (code === "OK") latencies.push(r.ms);
      }),
    );
  }
  await Promise.all(sends);
  say({ latencies, codes });
}

/** Probes GET `url` every `everyMs` until "stop": each probe's status and latency (a probe gives up after 2 s). */
async function probe(o: { url: string; everyMs: number }) {
  say("ready");
  await awaitLine("go");
  let stop = false;
  void awaitLine("stop").then(() => (stop = true));
  const statuses: Tally = {};
  const latencies: number[] = [];
  const failures: string[] = [];
  while (!stop) {
    const t = performance.now();
    try {
      const res = await fetch(o.url, { signal: AbortSignal.timeout(2_000) });
      await res.text();
      bump(statuses, String(res.status));
      if (res.status !== 200) failures.push(`${res.status} at ${new Date().toISOString()}`);
    } catch (err) {
      bump(statuses, "no answer");
      failures.push(`${(err as Error).message} at ${new Date().toISOString()}`);
    }
    latencies.push(performance.now() - t);
    await sleep(Math.max(0, o.everyMs - (performance.now() - t)));
  }
  say({ statuses, latencies, failures: failures.slice(0, 20) });
}

/**
 * SSE subscribers: `perAddress` subscriptions from each address, all open at once, each one of `queries` in turn.
 * Classifies each by its first event: data (admitted; then counts what it is pushed) or an error (its code).
 */
async function sse(o: { url: string; addresses: string[]; perAddress: number; queries: string[] }) {
  const outcome: Tally = {};
  const perAddress: Record<string, number> = {};
  let pushed = 0;
  let endedByServer = 0;
  const requests: ReturnType<typeof request>[] = [];
  let stopping = false;
  const agents = agentsFor(o.addresses, Number.POSITIVE_INFINITY);
  const settled: Promise<void>[] = [];
  let n = 0;
  for (const [a, address] of o.addresses.entries()) {
    for (let k = 0; k < o.perAddress; k++) {
      const body = JSON.stringify({ query: o.queries[n++ % o.queries.length] });
      settled.push(
        new Promise<void>((resolve) => {
          let first = true;
          let outcomeOf = "";
          const classify = (what: string) => {
            if (!first) return;
            first = false;
            outcomeOf = what;
            bump(outcome, what);
            if (what === "admitted") bump(perAddress, address);
            resolve();
          };
          const req = request(
            o.url,
            {
              method: "POST",
              agent: agents[a],
              headers: {
                "content-type": "application/json",
                accept: "text/event-stream",
                "content-length": Buffer.byteLength(body),
              },
            },
            (res) => {
              let buffer = "";
              res.setEncoding("utf8");
              res.on("data", (chunk: string) => {
                buffer += chunk;
                let end = buffer.indexOf("\n\n");
                while (end >= 0) {
                  const event = buffer.slice(0, end);
                  buffer = buffer.slice(end + 2);
                  end = buffer.indexOf("\n\n");
                  if (!/^data:/m.test(event)) continue; // a keep-alive comment, or the stream's end event
                  if (event.includes('"errors"')) classify(codeIn(event) ?? "ERROR_WITHOUT_CODE");
                  else {
                    classify("admitted");
                    pushed++;
                  }
                }
              });
              res.on("end", () => {
                // an admitted stream ends only when the server ends it; a refused one ends after its error
                if (!stopping && !first && outcomeOf === "admitted") endedByServer++;
                classify(res.statusCode === 200 ? "ENDED_WITHOUT_EVENT" : `HTTP_${res.statusCode}`);
              });
              res.on("error", () => classify("RESET"));
            },
          );
          req.on("error", () => classify("CONNECT_FAILED"));
          // neither data nor a refusal in 30 s (events come every 400 ms)
          setTimeout(() => classify("SILENT"), 30_000).unref();
          req.end(body);
          requests.push(req);
        }),
      );
    }
  }
  await Promise.all(settled);
  say("ready");
  await awaitLine("stop");
  stopping = true;
  for (const r of requests) r.destroy();
  say({ outcome, perAddress, pushed, endedByServer });
}

/**
 * graphql-ws subscribers: one socket per entry of `sockets`, each with `subscriptions` subscriptions (queries in
 * turn). Each is classified by its first message (next: admitted; error: its code). Plus `oversized` sockets that
 * send one message of `oversizedBytes` (the server must close them, 1009) and `idle` sockets that are acknowledged
 * and then send nothing (the server must close them, 4408).
 */
async function ws(o: {
  url: string;
  sockets: { address: string; subscriptions: number }[];
  queries: string[];
  oversized: { address: string; bytes: number }[];
  idle: string[];
}) {
  const outcome: Tally = {};
  const perSocket: number[] = [];
  const closes: Tally = {};
  let pushed = 0;
  let stopping = false;
  const open: WebSocket[] = [];
  const wsUrl = `${o.url.replace(/^http/, "ws")}`;
  /**
   * Opens a socket from `address` and acknowledges it; null if it closed first (its close code is counted under
   * `kind:unacknowledged`). A later close by the server is counted under `kind:code`.
   */
  const socket = (address: string, kind: string) =>
    new Promise<WebSocket | null>((resolve) => {
      let acked = false;
      const s = new WebSocket(wsUrl, "graphql-transport-ws", { localAddress: address });
      s.on("error", () => {});
      s.once("open", () => s.send(JSON.stringify({ type: "connection_init" })));
      s.on("message", (data) => {
        if (JSON.parse(String(data)).type !== "connection_ack") return;
        acked = true;
        resolve(s);
      });
      s.once("close", (code) => {
        if (!stopping) bump(closes, acked ? `${kind}:${code}` : `${kind}:unacknowledged:${code}`);
        resolve(null);
      });
      open.push(s);
    });
  let n = 0;
  await Promise.all(
    o.sockets.map(async ({ address, subscriptions }, i) => {
      perSocket[i] = 0;
      const s = await socket(address, "subscriber");
      if (!s) return;
      const answered = new Set<string>();
      await new Promise<void>((resolve) => {
        s.once("close", () => resolve());
        s.on("message", (data) => {
          const m = JSON.parse(String(data)) as { id?: string; type: string; payload?: unknown };
          if (!m.id) return;
          // a refusal by the subscription caps is a `next` carrying errors (then `complete`), or an `error`
          const errors = m.type === "error" || (m.type === "next" && JSON.stringify(m.payload).includes('"errors"'));
          if (m.type === "next" && !errors) pushed++;
          if (answered.has(m.id)) return;
          answered.add(m.id);
          if (errors) bump(outcome, codeIn(JSON.stringify(m.payload)) ?? "ERROR_WITHOUT_CODE");
          else if (m.type === "next") {
            bump(outcome, "admitted");
            perSocket[i]!++;
          } else bump(outcome, `UNEXPECTED_${m.type}`);
          if (answered.size === subscriptions) resolve();
        });
        for (let k = 0; k < subscriptions; k++)
          s.send(
            JSON.stringify({ id: String(k), type: "subscribe", payload: { query: o.queries[n++ % o.queries.length] } }),
          );
      });
    }),
  );
  // The oversized messages and the idle sockets: their closes are awaited after "stop" (at most 20 s more).
  const ends: Promise<unknown>[] = [];
  for (const { address, bytes } of o.oversized)
    ends.push(
      socket(address, "oversized").then((s) => {
        if (!s) return;
        s.send(
          JSON.stringify({ id: "big", type: "subscribe", payload: { query: `{ __typename } #${"x".repeat(bytes)}` } }),
        );
        return new Promise((r) => s.once("close", r));
      }),
    );
  for (const address of o.idle)
    ends.push(socket(address, "idle").then((s) => s && new Promise((r) => s.once("close", r))));
  say("ready");
  await awaitLine("stop");
  await Promise.race([Promise.allSettled(ends), sleep(20_000)]);
  stopping = true;
  for (const s of open) s.terminate();
  say({ outcome, perSocket, pushed, closes });
}

/**
 * Slowloris: keeps `sockets` connections open, each sending a request's headers one byte every `byteEveryMs` and
 * never finishing them; a socket the server closes is replaced. Tallies how each ended (the server's answer) and how
 * long the server let it live.
 */
async function slowloris(o: { host: string; port: number; addresses: string[]; sockets: number; byteEveryMs: number }) {
  const answers: Tally = {};
  const lifetimes: number[] = [];
  let opened = 0;
  let stopping = false;
  const live = new Set<Socket>();
  const head = `POST /graphql HTTP/1.1\r\nHost: ${o.host}:${o.port}\r\nContent-Type: application/json\r\nX-Padding: `;
  const open = () => {
    const s = connect({ host: o.host, port: o.port, localAddress: o.addresses[opened % o.addresses.length] });
    opened++;
    live.add(s);
    const born = performance.now();
    let sent = 0;
    let answer = "";
    s.setEncoding("utf8");
    s.on("data", (d: string) => (answer += d));
    s.on("error", () => {});
    const timer = setInterval(() => {
      // the header never ends: after the request line and the first headers, one more padding byte at a time
      const next = sent < head.length ? head[sent]! : "a";
      sent++;
      if (s.writable) s.write(next);
    }, o.byteEveryMs);
    s.once("close", () => {
      clearInterval(timer);
      live.delete(s);
      if (stopping) return;
      lifetimes.push(performance.now() - born);
      bump(answers, /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? "closed without answer");
      open();
    });
  };
  for (let i = 0; i < o.sockets; i++) open();
  say("ready");
  await awaitLine("stop");
  stopping = true;
  const stillOpen = live.size;
  for (const s of live) s.destroy();
  say({ opened, answers, lifetimes, stillOpen });
}

/**
 * Invalid documents: `rps` a second in total, open loop, half that do not parse and half that parse but do not
 * validate, each distinct; `addresses[i]` sends `shares[i]` of them. Tallies each answer's code.
 */
async function invalid(o: {
  url: string;
  addresses: string[];
  shares: number[];
  rps: number;
  maxInFlight: number;
  socketsPerAddress: number;
}) {
  const agents = agentsFor(o.addresses, o.socketsPerAddress);
  const total = o.shares.reduce((a, b) => a + b, 0);
  // which agent sends request i: a fixed deal of `shares` per `total` requests
  const deal = o.shares.flatMap((share, a) => Array<number>(share).fill(a));
  const codes: Tally = {};
  const byAddress: Record<string, Tally> = {};
  let sent = 0;
  let skipped = 0;
  let inFlight = 0;
  say("ready");
  await awaitLine("go");
  let stop = false;
  void awaitLine("stop").then(() => (stop = true));
  const started = performance.now();
  const pending = new Set<Promise<void>>();
  while (!stop) {
    const due = ((performance.now() - started) * o.rps) / 1000;
    while (sent + skipped < due) {
      const i = sent + skipped;
      if (inFlight >= o.maxInFlight) {
        skipped++;
        continue;
      }
      const a = deal[i % total]!;
      const query = i % 2 ? `{ pools(first: 1 { address } } # ${i}` : `{ pool(address: "x") { notAField${i} } }`;
      inFlight++;
      sent++;
      const p = post(agents[a]!, o.url, JSON.stringify({ query }), 10_000).then((r) => {
        inFlight--;
        const code = codeIn(r.text) ?? (r.status === 200 ? "OK" : `HTTP_${r.status}`);
        bump(codes, code);
        bump((byAddress[o.addresses[a]!] ??= {}), code);
      });
      pending.add(p);
      void p.finally(() => pending.delete(p));
    }
    await sleep(5);
  }
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(pending);
  say({ sent, skipped, seconds, codes, byAddress });
}

const [kind, json] = process.argv.slice(2);
const kinds: Record<string, (o: any) => Promise<void>> = { dashboard, probe, sse, ws, slowloris, invalid };
process.stdout.on("error", () => process.exit(0));
kinds[kind!]!(JSON.parse(json!)).then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  },
);
