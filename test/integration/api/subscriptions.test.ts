/**
 * Subscriptions: the indexer's Redis event reaches SSE and graphql-ws subscribers within a second of the block being
 * stored.
 */
import { createClient } from "graphql-ws";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import WebSocket from "ws";
import { type RunningApi, parseChainEvent, startApi } from "../../../api/server/index.js";
import { parseConfig } from "../../../core/config.js";
import { type ChainEvent, eventsChannel } from "../../../core/events.js";
import type { DecodedBlock } from "../../../indexer/decode/index.js";
import { createLogger } from "../../../core/logger.js";
import { createStore } from "../../../indexer/store/index.js";
import { type ApiHarness, SQL_MODE, setupApi } from "./harness.js";

/** The event the indexer publishes after storing `blocks`. */
function eventOf(blocks: DecodedBlock[]): ChainEvent {
  const txs = blocks.flatMap((b) => b.transactions);
  return {
    type: "batch",
    slots: blocks.map((b) => b.slot),
    swaps: txs.flatMap((t) =>
      t.swaps.map((s) => ({
        signature: s.signature,
        instructionPath: s.instructionPath,
        pool: s.pool,
        trader: s.trader,
        mintIn: s.mintIn,
        mintOut: s.mintOut,
        amountIn: String(s.amountIn),
        amountOut: String(s.amountOut),
        slot: s.slot,
        blockTime: s.blockTime ? Math.floor(new Date(s.blockTime).getTime() / 1000) : null,
      })),
    ),
    transactions: txs.map((t) => ({
      signature: t.transaction.signature,
      slot: t.transaction.slot,
      programIds: t.transaction.programIds,
      success: t.transaction.success,
    })),
  };
}

/** Reads SSE `next` events from a response body until `n` data events arrived. */
async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<any> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += decoder.decode(value, { stream: true });
    let i: number;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const chunk = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = chunk.split("\n").find((l) => l.startsWith("data:"));
      if (data && data.length > 6) yield JSON.parse(data.slice(5));
    }
  }
}

describe("api subscriptions", () => {
  let h: ApiHarness;
  let publisher: Redis;
  let servers: RunningApi[];
  let event: ChainEvent;
  let block: DecodedBlock;

  beforeAll(async () => {
    h = await setupApi({ fill: false });
    publisher = new Redis(inject("redisUrl"));
    const config = parseConfig({
      DATABASE_URL: h.url,
      REDIS_URL: inject("redisUrl"),
      QUEUE_PREFIX: h.prefix,
      API_SQL_MODE: SQL_MODE,
      LOG_LEVEL: "silent",
    });
    const logger = createLogger({ LOG_LEVEL: "silent", LOG_FORMAT: "json" });
    // Two API processes behind one load balancer: each holds its own subscription.
    servers = [
      await startApi({ config, logger }, { port: 0, host: "127.0.0.1" }),
      await startApi({ config, logger }, { port: 0, host: "127.0.0.1" }),
    ];
    block = h.blocks.at(-1)!;
    event = eventOf([block]);
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    publisher.disconnect();
    await h.close();
  });

  test("the event the indexer publishes parses; malformed ones are refused", () => {
    expect(parseChainEvent(JSON.stringify(event))).toEqual(event);
    expect(parseChainEvent("{")).toBeNull();
    expect(parseChainEvent(JSON.stringify({ ...event, swaps: [{ ...event.swaps[0], amountIn: 12 }] }))).toBeNull();
  });

  test("SSE: a pool's swaps arrive within 1 s of the block being stored, with relations read from Postgres", async () => {
    const pool = event.swaps[0]!.pool;
    const expected = event.swaps.filter((s) => s.pool === pool);
    const abort = new AbortController();
    const res = await fetch(`${servers[0]!.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({
        query: `subscription($pool: String) { swaps(where: { pool: $pool }) { signature instructionPath amountIn trader blockTime pool { address dex } } }`,
        variables: { pool },
      }),
      signal: abort.signal,
    });
    expect(res.status).toBe(200);
    const stream = sseData(res.body!);
    await createStore({ db: h.writer }).writeBlocks([block], { commitment: "confirmed" });
    const stored = performance.now();
    // a malformed message first: ignored, the stream goes on
    await publisher.publish(eventsChannel(h.prefix), "not json");
    await publisher.publish(eventsChannel(h.prefix), JSON.stringify(event));
    const got: any[] = [];
    for await (const msg of stream) {
      got.push(msg.data.swaps);
      if (got.length === expected.length) break;
    }
    expect(performance.now() - stored).toBeLessThan(1_000);
    abort.abort();
    expect(got.map((s) => `${s.signature}/${s.instructionPath}`)).toEqual(
      expected.map((s) => `${s.signature}/${s.instructionPath}`),
    );
    expect(got[0]).toMatchObject({
      amountIn: expected[0]!.amountIn,
      trader: expected[0]!.trader,
      pool: { address: pool },
    });
    expect(got[0].pool.dex).toBeTruthy();
    expect(got[0].blockTime).toBe(new Date((expected[0]!.blockTime as number) * 1000).toISOString());
  });

  test("SSE: each pushed swap reads its pool as stored now, not as the subscription's first event found it", async () => {
    await createStore({ db: h.writer }).writeBlocks([block], { commitment: "confirmed" });
    const swap = event.swaps[0]!;
    const only = { ...event, swaps: [swap], transactions: [], slots: [] };
    const abort = new AbortController();
    const res = await fetch(`${servers[0]!.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({
        query: `subscription($pool: String) { swaps(where: { pool: $pool }) { signature pool { address reserveA } } }`,
        variables: { pool: swap.pool },
      }),
      signal: abort.signal,
    });
    const stream = sseData(res.body!);
    await new Promise((r) => setTimeout(r, 100));
    const reserves: string[] = [];
    await publisher.publish(eventsChannel(h.prefix), JSON.stringify(only));
    for await (const msg of stream) {
      reserves.push(msg.data.swaps.pool.reserveA);
      if (reserves.length === 1) {
        // a later block moved the pool's reserves (what the store's upsert does), then another of its swaps is pushed
        await h.sql.query(`update pools set reserve_a = reserve_a + 1000 where address = $1`, [swap.pool]);
        await publisher.publish(eventsChannel(h.prefix), JSON.stringify(only));
      } else break;
    }
    abort.abort();
    const { rows } = await h.sql.query<{ r: string }>(`select reserve_a::text as r from pools where address = $1`, [
      swap.pool,
    ]);
    expect(reserves[0]).toBe((BigInt(rows[0]!.r) - 1000n).toString());
    expect(reserves[1]).toBe(rows[0]!.r);
  });

  test("graphql-ws on both API processes: transactions by program and slots, from one published event", async () => {
    const program = "pAMMBay6oceH9fJKBRHGP5D4bD4sWpmSwMn52FMfXEA";
    const expected = event.transactions
      .filter((t) => t.programIds.includes(program) && t.success)
      .map((t) => t.signature);
    expect(expected.length).toBeGreaterThan(0);
    const clients = servers.map((s) =>
      createClient({ url: `${s.url.replace("http", "ws")}/graphql`, webSocketImpl: WebSocket, lazy: false }),
    );
    const collect = (client: ReturnType<typeof createClient>, query: string, n: number) =>
      new Promise<any[]>((resolve, reject) => {
        const items: any[] = [];
        const stop = client.subscribe(
          { query },
          {
            next: (v) => {
              items.push(v.data);
              if (items.length === n) {
                stop();
                resolve(items);
              }
            },
            error: reject,
            complete: () => resolve(items),
          },
        );
      });
    const txs = clients.map((c) =>
      collect(
        c,
        `subscription { transactions(where: { program: "${program}", success: true }) { signature slot success fee } }`,
        expected.length,
      ),
    );
    const slots = collect(clients[1]!, `subscription { slots { slot status txCount } }`, 1);
    // graphql-ws acknowledges before the subscription is set up on the server: give it a moment.
    await new Promise((r) => setTimeout(r, 200));
    const published = performance.now();
    await publisher.publish(eventsChannel(h.prefix), JSON.stringify(event));
    const [a, b] = await Promise.all(txs);
    const [s] = await slots;
    expect(performance.now() - published).toBeLessThan(1_000);
    for (const got of [a!, b!]) expect(got.map((x) => x.transactions.signature)).toEqual(expected);
    expect(a![0].transactions.fee).toMatch(/^\d+$/); // read from Postgres: the event carries no fee
    expect(s.slots).toEqual({ slot: block.slot, status: "indexed", txCount: block.txCount });
    await Promise.all(clients.map((c) => c.dispose()));
  });

  test("graphql-ws applies the same guards", async () => {
    const client = createClient({ url: `${servers[0]!.url.replace("http", "ws")}/graphql`, webSocketImpl: WebSocket });
    const err = await new Promise<any>((resolve) => {
      client.subscribe(
        { query: `subscription { swaps { pool { swaps(first: 1001) { totalCount } } } }` },
        { next: resolve, error: resolve, complete: () => resolve(null) },
      );
    });
    const errors = Array.isArray(err) ? err : err?.errors;
    expect(errors?.[0]?.extensions?.code).toBe("FIRST_LIMIT");
    await client.dispose();
  });
});
