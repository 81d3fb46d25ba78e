/**
 * Subscriptions against a hostile client: caps per client, per WebSocket and per process (coded errors), a cap on
 * WebSocket messages, idle sockets closed, and one read per event however many subscribers it reaches.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, test, vi } from "vitest";
import WebSocket from "ws";
import { type RunningApi, createEventHub, startApi } from "../../../api/server/index.js";
import { parseConfig } from "../../../core/config.js";
import { createApiMetrics } from "../../../api/metrics.js";
import { createLogger } from "../../../core/logger.js";
import { eventsChannel } from "../../../core/events.js";
import { uniquePrefix } from "../../setup/services.js";
import { type ApiHarness, SQL_MODE, setupApi } from "./harness.js";

const code = (e: unknown) => (e as { extensions?: { code?: string } }).extensions?.code;

/** A graphql-transport-ws socket, acknowledged; `subscribe` answers with the first message for its id. */
async function openSocket(url: string) {
  const ws = new WebSocket(`${url.replace("http", "ws")}/graphql`, "graphql-transport-ws");
  const waiting = new Map<string, (m: any) => void>();
  const closed = new Promise<{ code: number; at: number }>((r) =>
    ws.once("close", (c) => r({ code: c, at: performance.now() })),
  );
  ws.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => ws.send(JSON.stringify({ type: "connection_init" })));
    ws.on("message", (data) => {
      const m = JSON.parse(String(data));
      if (m.type === "connection_ack") resolve();
      else if (m.id) waiting.get(m.id)?.(m);
    });
    ws.once("close", reject);
  });
  let n = 0;
  return {
    ws,
    closed,
    /** Subscribes; resolves with the server's error payload, or null if it has not answered within 300 ms. */
    subscribe(query: string): Promise<any[] | null> {
      const id = String(++n);
      return new Promise((resolve) => {
        waiting.set(id, (m) => resolve(m.type === "error" ? m.payload : null));
        ws.send(JSON.stringify({ id, type: "subscribe", payload: { query } }));
        setTimeout(() => resolve(null), 300);
      });
    },
  };
}

/** An SSE subscription: its status and first error code (or null while it streams); `close` ends it. */
async function sse(url: string) {
  const abort = new AbortController();
  const res = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify({ query: "subscription { slots { slot } }" }),
    signal: abort.signal,
  });
  const reader = res.body!.getReader();
  const first = await Promise.race([
    reader.read().then((r) => new TextDecoder().decode(r.value)),
    new Promise<string>((r) => setTimeout(() => r(""), 300)),
  ]);
  const m = /"code":"([A-Z_]+)"/.exec(first);
  return { code: m?.[1] ?? null, close: () => abort.abort() };
}

describe("api subscription limits", () => {
  let h: ApiHarness;
  let api: RunningApi;

  beforeAll(async () => {
    h = await setupApi({ fill: false });
    const config = parseConfig({
      DATABASE_URL: h.url,
      REDIS_URL: inject("redisUrl"),
      QUEUE_PREFIX: h.prefix,
      API_SQL_MODE: SQL_MODE,
      API_SUBSCRIPTIONS_PER_CLIENT: "3",
      API_SUBSCRIPTIONS_PER_SOCKET: "2",
      API_WS_MAX_MESSAGE_BYTES: "4096",
      API_WS_IDLE_MS: "1000",
      LOG_LEVEL: "silent",
    });
    api = await startApi({ config, logger: createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" }) }, { port: 0 });
  });
  afterAll(async () => {
    await api.close();
    await h.close();
  });

  test("the hub counts streams per client and per process; an ended stream (even one never read) frees its place", async () => {
    const redis = new Redis(inject("redisUrl"));
    const hub = createEventHub(redis, uniquePrefix(), createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" }), {
      total: 3,
      perClient: 2,
    });
    try {
      const none = () => [];
      const a1 = hub.subscribe(none, "ip:a");
      hub.subscribe(none, "ip:a");
      let err: unknown;
      try {
        hub.subscribe(none, "ip:a");
      } catch (e) {
        err = e;
      }
      expect(code(err)).toBe("RATE_LIMITED");
      hub.subscribe(none, "ip:b");
      try {
        hub.subscribe(none, "ip:c");
      } catch (e) {
        err = e;
      }
      expect(code(err)).toBe("OVERLOADED");
      expect(hub.subscriptions()).toEqual({ open: 3, clients: 2 });
      await a1.return!(undefined);
      await a1.return!(undefined);
      expect(hub.subscriptions()).toEqual({ open: 2, clients: 2 });
      hub.subscribe(none, "ip:c");
      expect(hub.subscriptions()).toEqual({ open: 3, clients: 3 });
    } finally {
      await hub.close();
    }
  });

  test("a WebSocket carries at most API_SUBSCRIPTIONS_PER_SOCKET; a client at most API_SUBSCRIPTIONS_PER_CLIENT over any transport", async () => {
    const s = await openSocket(api.url);
    expect(await s.subscribe("subscription { slots { slot } }")).toBeNull();
    expect(await s.subscribe("subscription { swaps { signature } }")).toBeNull();
    const refused = await s.subscribe("subscription { transactions { signature } }");
    expect(refused?.[0]?.extensions?.code).toBe("RATE_LIMITED");
    expect(refused?.[0]?.message).toMatch(/WebSocket/);
    // the same client (127.0.0.1) holds 2 on the socket: one more over SSE, then the client's cap
    const third = await sse(api.url);
    expect(third.code).toBeNull();
    const fourth = await sse(api.url);
    expect(fourth.code).toBe("RATE_LIMITED");
    fourth.close();
    // an ended subscription frees its place
    third.close();
    await new Promise((r) => setTimeout(r, 200));
    const again = await sse(api.url);
    expect(again.code).toBeNull();
    again.close();
    s.ws.close();
    await s.closed;
  });

  test("a WebSocket message over API_WS_MAX_MESSAGE_BYTES closes the socket with 1009 before it is read", async () => {
    const s = await openSocket(api.url);
    s.ws.send(
      JSON.stringify({ id: "big", type: "subscribe", payload: { query: `{ __typename }${" ".repeat(8_000)}` } }),
    );
    expect((await s.closed).code).toBe(1009);
  });

  test("a client's oversized messages write nothing to the server's stderr", async () => {
    // graphql-ws reports any socket error with console.error and a stack: a client must not be able to trigger it
    const errors = vi.spyOn(console, "error");
    try {
      for (let i = 0; i < 3; i++) {
        const s = await openSocket(api.url);
        s.ws.send(
          JSON.stringify({ id: "big", type: "subscribe", payload: { query: `{ __typename }${" ".repeat(8_000)}` } }),
        );
        expect((await s.closed).code).toBe(1009);
      }
      await new Promise((r) => setTimeout(r, 50));
      expect(errors).not.toHaveBeenCalled();
    } finally {
      errors.mockRestore();
    }
  });

  test("a socket without subscriptions that sends nothing for API_WS_IDLE_MS is closed; one with a subscription stays", async () => {
    const idle = await openSocket(api.url);
    const busy = await openSocket(api.url);
    const opened = performance.now();
    expect(await busy.subscribe("subscription { slots { slot } }")).toBeNull();
    const { code: closeCode, at } = await idle.closed;
    expect(closeCode).toBe(4408);
    expect(at - opened).toBeGreaterThanOrEqual(900);
    expect(at - opened).toBeLessThan(5_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(busy.ws.readyState).toBe(WebSocket.OPEN);
    busy.ws.close();
    await busy.closed;
  });
});

describe("api subscription reads", () => {
  test("an operation's subscribers share each pushed item's execution and its bytes; another operation has its own", async () => {
    const prefix = uniquePrefix();
    const silent = createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" });
    const hub = createEventHub(new Redis(inject("redisUrl")), prefix, silent);
    await hub.ready;
    const h = await setupApi({ fill: false, config: { QUEUE_PREFIX: prefix }, context: { events: hub } });
    const publisher = new Redis(inject("redisUrl"));
    const aborts: AbortController[] = [];
    const open = async (query: string) => {
      const abort = new AbortController();
      aborts.push(abort);
      const res = await h.api.fetch("http://test/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream" },
        body: JSON.stringify({ query }),
        signal: abort.signal,
      });
      return res.body!.getReader();
    };
    try {
      const same = await Promise.all(Array.from({ length: 5 }, () => open("subscription { slots { slot txCount } }")));
      const other = await Promise.all(Array.from({ length: 2 }, () => open("subscription { slots { slot } }")));
      const streams = [...same, ...other];
      const texts = streams.map(() => "");
      const received = (n: number) =>
        Promise.all(
          streams.map(async (r, i) => {
            while ((texts[i]!.match(/^data: \{/gm) ?? []).length < n)
              texts[i] += new TextDecoder().decode((await r.read()).value);
          }),
        );
      await new Promise((r) => setTimeout(r, 100));
      const executions = async () => (await h.api.metrics.subscriptionExecutions.get()).values[0]?.value ?? 0;
      const before = await executions();
      const event = { type: "batch", slots: [424242, 424243], swaps: [], transactions: [] };
      await publisher.publish(eventsChannel(prefix), JSON.stringify(event));
      await received(2);
      // two items, two operations: four executions for seven subscribers (fourteen pushes)
      expect((await executions()) - before).toBe(4);
      const events = texts.map((t) => t.match(/^data: .*$/gm));
      expect(events[0]).toEqual([
        'data: {"data":{"slots":{"slot":424242,"txCount":0}}}',
        'data: {"data":{"slots":{"slot":424243,"txCount":0}}}',
      ]);
      for (const e of events.slice(1, 5)) expect(e).toEqual(events[0]);
      expect(events[5]).toEqual([
        'data: {"data":{"slots":{"slot":424242}}}',
        'data: {"data":{"slots":{"slot":424243}}}',
      ]);
      expect(events[6]).toEqual(events[5]);
    } finally {
      for (const a of aborts) a.abort();
      publisher.disconnect();
      await hub.close();
      await h.close();
    }
  });

  test("over graphql-ws too: an operation's sockets are sent each item's JSON made once, and the same bytes as SSE's", async () => {
    const h = await setupApi({ fill: false });
    const metrics = createApiMetrics();
    const config = parseConfig({
      DATABASE_URL: h.url,
      REDIS_URL: inject("redisUrl"),
      QUEUE_PREFIX: h.prefix,
      API_SQL_MODE: SQL_MODE,
      LOG_LEVEL: "silent",
    });
    const api = await startApi(
      { config, logger: createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" }) },
      { port: 0, metrics },
    );
    const publisher = new Redis(inject("redisUrl"));
    const sockets: WebSocket[] = [];
    try {
      /** A socket subscribed to `query` as id "7", with the `next` messages it is sent, as text. */
      const subscriber = async (query: string) => {
        const s = await openSocket(api.url);
        sockets.push(s.ws);
        const nexts: string[] = [];
        s.ws.on("message", (data) => {
          if (JSON.parse(String(data)).type === "next") nexts.push(String(data));
        });
        s.ws.send(JSON.stringify({ id: "7", type: "subscribe", payload: { query } }));
        return nexts;
      };
      const same = await Promise.all([1, 2, 3].map(() => subscriber("subscription { slots { slot txCount } }")));
      const other = await subscriber("subscription { slots { slot } }");
      await new Promise((r) => setTimeout(r, 300));
      const serialized = async () => (await metrics.subscriptionSerializations.get()).values[0]?.value ?? 0;
      const before = await serialized();
      const event = { type: "batch", slots: [424242, 424243], swaps: [], transactions: [] };
      await publisher.publish(eventsChannel(h.prefix), JSON.stringify(event));
      await vi.waitFor(() => expect([...same, other].map((n) => n.length)).toEqual([2, 2, 2, 2]), { timeout: 5_000 });
      for (const n of same)
        expect(n).toEqual([
          '{"id":"7","type":"next","payload":{"data":{"slots":{"slot":424242,"txCount":0}}}}',
          '{"id":"7","type":"next","payload":{"data":{"slots":{"slot":424243,"txCount":0}}}}',
        ]);
      expect(other).toEqual([
        '{"id":"7","type":"next","payload":{"data":{"slots":{"slot":424242}}}}',
        '{"id":"7","type":"next","payload":{"data":{"slots":{"slot":424243}}}}',
      ]);
      // two items, two operations: four serializations for four sockets' eight messages
      expect((await serialized()) - before).toBe(4);
    } finally {
      for (const ws of sockets) ws.close();
      publisher.disconnect();
      await api.close();
      await h.close();
    }
  });

  test("an event's items read Postgres once for all the subscribers they reach, and again for the next event", async () => {
    const prefix = uniquePrefix();
    const silent = createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" });
    const hub = createEventHub(new Redis(inject("redisUrl")), prefix, silent);
    await hub.ready;
    const h = await setupApi({ fill: false, config: { QUEUE_PREFIX: prefix }, context: { events: hub } });
    const publisher = new Redis(inject("redisUrl"));
    const aborts: AbortController[] = [];
    try {
      const SUBSCRIBERS = 5;
      const streams = await Promise.all(
        Array.from({ length: SUBSCRIBERS }, async () => {
          const abort = new AbortController();
          aborts.push(abort);
          const res = await h.api.fetch("http://test/graphql", {
            method: "POST",
            headers: { "content-type": "application/json", accept: "text/event-stream" },
            body: JSON.stringify({ query: "subscription { slots { slot status txCount } }" }),
            signal: abort.signal,
          });
          return res.body!.getReader();
        }),
      );
      /** Reads each stream until it has carried `n` data messages in all. */
      const texts = streams.map(() => "");
      const received = (n: number) =>
        Promise.all(
          streams.map(async (r, i) => {
            while ((texts[i]!.match(/^data: \{/gm) ?? []).length < n)
              texts[i] += new TextDecoder().decode((await r.read()).value);
          }),
        );
      await new Promise((r) => setTimeout(r, 100));
      const slotReads = () => h.statements.texts.filter((t) => / from slots /.test(t)).length;
      h.statements.reset();
      const event = { type: "batch", slots: [424242], swaps: [], transactions: [] };
      await publisher.publish(eventsChannel(prefix), JSON.stringify(event));
      await received(1);
      expect(slotReads()).toBe(1);
      // the same event again is a new event: read again, once
      await publisher.publish(eventsChannel(prefix), JSON.stringify(event));
      await received(2);
      expect(slotReads()).toBe(2);
    } finally {
      for (const a of aborts) a.abort();
      publisher.disconnect();
      await hub.close();
      await h.close();
    }
  });
});
