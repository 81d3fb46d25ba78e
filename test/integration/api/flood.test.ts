/**
 * G5: a flood of slow queries against the API while the indexer writes. The processes are the real ones (ingest,
 * worker, api) on the local chain; the API's slow query filters a large table on an unindexed column. The resume
 * point must keep moving through the flood, and every flood answer must be data or a coded error (never a crash).
 * How much write throughput the flood costs is measured in the bench (`npm run bench -- --only api-flood-writes`).
 */
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { type Chain, createChain } from "../../../devchain/index.js";
import { ingestEnv, query } from "../../setup/ingest-env.js";
import { freePort } from "../../setup/private-services.js";
import { type SlotlineProcess, spawnSlotline, waitFor } from "../../setup/processes.js";
import { createTestDatabase, uniquePrefix } from "../../setup/services.js";
import { SQL_MODE } from "./harness.js";

const FLOOD_RPS = 50;
const FLOOD_MS = 6_000;
/** Synthetic swaps far below the chain's slots: the table the slow query scans. */
const FILLER_ROWS = 250_000;
const SLOW = `{ swaps(first: 5, where: { dex: "no-such-dex" }) { totalCount edges { node { signature } } } }`;

describe("api flood while the indexer writes", () => {
  let chain: Chain;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const procs: SlotlineProcess[] = [];
  beforeAll(async () => {
    chain = await createChain({ port: 0, slotMs: 200 });
    db = await createTestDatabase(inject("pgAdminUrl"), inject("templateDb"));
    // swaps is partitioned by slot range: the filler's partition is made first, as the store does
    await query(db.url, "select slotline_ensure_slot_partitions(array[1::int8])");
    await query(
      db.url,
      `insert into swaps (signature, instruction_path, pool, dex, trader, mint_in, mint_out, amount_in, amount_out, slot, tx_index, block_time)
       select 'filler' || i, '0', 'pool' || (i % 50), 'filler', 'trader' || (i % 1000), 'a', 'b', i, i, 1 + i / 100, i % 100, now() - interval '1 year'
       from generate_series(1, ${FILLER_ROWS}) i`,
    );
    await query(db.url, "analyze swaps");
    // the live slots' partitions are the indexer's to make: its upkeep makes them ahead at start (docs/scaling.md)
  });
  afterAll(async () => {
    for (const p of procs) await p.kill("SIGKILL");
    await chain.close();
    await db.drop();
  });

  const cursor = async () =>
    Number(
      (await query<{ slot: string | null }>(db.url, `select slot::text from cursors where id = 'live'`))[0]?.slot ?? -1,
    );

  /** The swaps partition two after the live slots' exists (the upkeep's headroom). */
  const madeAhead = async () =>
    (
      await query<{ ok: boolean }>(
        db.url,
        "select to_regclass('slot_partitions.swaps_p' || lpad((($1::int8 / 432000) + 2)::text, 6, '0')) is not null as ok",
        [chain.slot("confirmed")],
      )
    )[0]!.ok;

  test("the resume point keeps moving through 6 s of 50 slow queries a second; every answer is data or a coded error", async () => {
    const port = await freePort();
    const env = ingestEnv(chain, db.url, inject("redisUrl"), uniquePrefix(), {
      START_SLOT: String(chain.slot("confirmed")),
      API_PORT: String(port),
      // every flood request names another client behind the proxy, so the per-client budget does not shed the flood
      API_TRUST_PROXY: "true",
      API_SQL_MODE: SQL_MODE,
      LOG_LEVEL: "warn",
    });
    procs.push(spawnSlotline(["ingest"], env), spawnSlotline(["worker"], env), spawnSlotline(["api"], env));
    const url = `http://127.0.0.1:${port}/graphql`;
    await waitFor(
      "ingest to store slots and the API to answer",
      async () => {
        const r = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query: "{ __typename }" }),
        }).catch(() => null);
        // a running indexer: slots stored, and the partitions ahead of them made (the flood then never waits on one)
        return r?.status === 200 && (await cursor()) > 0 && (await madeAhead());
      },
      60_000,
    );

    // One slow query on its own, to know it is slow (a scan of the filler), not a cache hit.
    const t0 = performance.now();
    const one = (await (
      await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: SLOW }),
      })
    ).json()) as any;
    expect(one.data.swaps.totalCount).toBe(0);
    const slowMs = performance.now() - t0;

    const answers: { status: number; code: string | null }[] = [];
    const inflight: Promise<void>[] = [];
    const samples: number[] = [await cursor()];
    const started = performance.now();
    let n = 0;
    const send = () => {
      n++;
      const client = `198.18.${(n >> 8) & 255}.${n & 255}`;
      inflight.push(
        fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", "x-forwarded-for": client },
          body: JSON.stringify({ query: SLOW }),
        })
          .then(async (r) => {
            const b = (await r.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
            answers.push({ status: r.status, code: b.errors?.[0]?.extensions?.code ?? null });
          })
          .catch(() => void answers.push({ status: 0, code: "NETWORK" })),
      );
    };
    // Paced by the clock, not by timer ticks (which drift on a loaded machine): FLOOD_RPS a second on average.
    const timer = setInterval(() => {
      while (n < Math.min(FLOOD_MS, performance.now() - started) * (FLOOD_RPS / 1000)) send();
    }, 10);
    while (performance.now() - started < FLOOD_MS) {
      await new Promise((r) => setTimeout(r, 2_000));
      samples.push(await cursor());
    }
    clearInterval(timer);
    await Promise.all(inflight);

    // The resume point moved in every 2 s window of the flood.
    for (let i = 1; i < samples.length; i++)
      expect(samples[i], `cursor samples ${samples.join(", ")}`).toBeGreaterThan(samples[i - 1]!);
    expect(answers.length).toBeGreaterThanOrEqual((FLOOD_MS / 1000) * FLOOD_RPS * 0.8);
    // Data, or an expected refusal (timeout, cancellation, the slow lane full): never a transport failure or a masked
    // crash.
    const unexpected = answers.filter(
      (a) =>
        !(a.code === null ? a.status === 200 : ["QUERY_TIMEOUT", "QUERY_CANCELLED", "OVERLOADED"].includes(a.code)),
    );
    expect(unexpected.slice(0, 5)).toEqual([]);
    console.log(
      `flood: slow query alone ${Math.round(slowMs)} ms; ${answers.length} answers, ${answers.filter((a) => a.code).length} refused; cursor ${samples.join(" -> ")}`,
    );
  }, 120_000);
});
