/**
 * The worker's batch events on real Redis pub/sub: built and published while a process listens, not built while
 * none does, and delivered again from the first batch after a subscriber arrives.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { eventsChannel, type ChainEvent } from "../../../core/events.js";
import { createMetrics } from "../../../core/metrics.js";
import { createEventPublisher } from "../../../indexer/pipeline/worker.js";
import { uniquePrefix } from "../../setup/services.js";

describe("batch events", () => {
  let publisher: Redis;
  let subscriber: Redis;

  beforeAll(() => {
    publisher = new Redis(inject("redisUrl"));
    subscriber = new Redis(inject("redisUrl"));
  });
  afterAll(async () => {
    await Promise.all([publisher.quit(), subscriber.quit()]);
  });

  test("no listener: the event is not built; a subscriber gets the very next batch's event; after it leaves, building stops again", async () => {
    const channel = eventsChannel(uniquePrefix());
    const metrics = createMetrics();
    const publish = createEventPublisher(publisher, channel, metrics);
    let built = 0;
    const event = (slot: number) => () => {
      built++;
      return { type: "batch", slots: [slot], swaps: [], transactions: [] } satisfies ChainEvent;
    };
    const outcomes = async () =>
      Object.fromEntries((await metrics.batchEvents.get()).values.map((v) => [v.labels.outcome, v.value]));

    // The first batch is published (nobody knew yet) and finds no one; the next two are never built.
    await publish(event(1));
    await publish(event(2));
    await publish(event(3));
    expect(built).toBe(1);
    expect(await outcomes()).toEqual({ published: 1, no_listener: 2 });

    const received: ChainEvent[] = [];
    subscriber.on("message", (_c: string, m: string) => received.push(JSON.parse(m) as ChainEvent));
    await subscriber.subscribe(channel);
    await publish(event(4));
    await publish(event(5));
    await expect.poll(() => received.map((e) => e.slots[0])).toEqual([4, 5]);
    expect(built).toBe(3);

    await subscriber.unsubscribe(channel);
    await publish(event(6)); // built: the last publish had a listener
    await publish(event(7));
    expect(built).toBe(4);
    expect(await outcomes()).toEqual({ published: 4, no_listener: 3 });
    expect(received.map((e) => e.slots[0])).toEqual([4, 5]);
  });
});
