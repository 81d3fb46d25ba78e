import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { type Chain, createChain } from "../../devchain/index.js";
import { ingestEnv } from "../setup/ingest-env.js";
import { type SlotlineProcess, spawnSlotline, waitFor } from "../setup/processes.js";
import { createTestDatabase, uniquePrefix } from "../setup/services.js";

// A single writer for live ingest: two ingest processes started together, one leads (advisory lock on a
// dedicated connection), the other waits and takes over within seconds when the leader dies.
describe("ingest leadership", () => {
  let chain: Chain;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const procs: SlotlineProcess[] = [];
  beforeAll(async () => {
    chain = await createChain({ port: 0, slotMs: 200 });
    db = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
  });
  afterAll(async () => {
    for (const p of procs) await p.kill("SIGKILL");
    await chain.close();
    await db.drop();
  });

  test("one of two ingest processes leads; when it is killed the other takes over", async () => {
    const env = ingestEnv(chain, db.url, inject("redisUrl"), uniquePrefix(), {
      LOG_LEVEL: "info",
      START_SLOT: String(chain.slot("confirmed")),
    });
    const a = spawnSlotline(["ingest"], env);
    const b = spawnSlotline(["ingest"], env);
    procs.push(a, b);
    const leads = (p: SlotlineProcess) => p.output().includes('"msg":"leading ingest"');
    const waits = (p: SlotlineProcess) => p.output().includes("another ingest process leads");
    await waitFor("one leader and one waiting", async () => (leads(a) && waits(b)) || (leads(b) && waits(a)), 30_000);
    const [leader, follower] = leads(a) ? [a, b] : [b, a];
    expect(leads(follower)).toBe(false);
    const t0 = Date.now();
    await leader.kill("SIGKILL");
    await waitFor("the follower to take over", async () => leads(follower), 15_000, 100);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await follower.kill("SIGTERM")).toBe(0);
  }, 60_000);
});
