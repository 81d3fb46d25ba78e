/**
 * Pool.candles over ranges that do not start or end on a minute: whole minutes come from pool_candles, the partial
 * ones at the edges from the swaps; every bucket must equal the SQL over the swaps written here.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { DecodedBlock } from "../../../indexer/decode/index.js";
import { createStore } from "../../../indexer/store/index.js";
import { type ApiHarness, loadFixtureBlocks, setupApi } from "./harness.js";

const SLOT_KEYS = new Set(["slot", "parentSlot", "firstSeenSlot", "lastSwapSlot", "reservesSlot", "createdSlot"]);
/** Copies of the two mainnet blocks, 40 s apart: ~7 minutes of swaps, across an hour boundary (04:54 to 05:01). */
const COPIES = 10;

/** Copy `j` of `b`: slots 100*j later, block times 40*j s later, signatures suffixed. */
function copyBlock(b: DecodedBlock, j: number): DecodedBlock {
  const walk = (v: unknown, key?: string): unknown => {
    if (v instanceof Date) return new Date(v.getTime() + 40_000 * j);
    if (Array.isArray(v)) return v.map((x) => walk(x));
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    if (typeof v === "number" && key && SLOT_KEYS.has(key)) return v + 100 * j;
    if (typeof v === "number" && key === "blockTime") return v + 40 * j;
    if (typeof v === "string" && (key === "signature" || key === "createdSignature")) return `${v}-${j}`;
    return v;
  };
  return walk(b) as DecodedBlock;
}

/** A decimal string without trailing fractional zeros, as the API sends prices. */
const trim = (s: string | null) => (s == null || !s.includes(".") ? s : s.replace(/0+$/, "").replace(/\.$/, ""));

describe("api: candles over ranges cut mid-minute", () => {
  let h: ApiHarness;
  let pool: string;
  let times: number[];

  beforeAll(async () => {
    h = await setupApi({ fill: false });
    const blocks = loadFixtureBlocks();
    await createStore({ db: h.writer }).writeBlocks(
      blocks.flatMap((b) => Array.from({ length: COPIES }, (_, j) => copyBlock(b, j))),
      { commitment: "confirmed" },
    );
    const [p] = (await h.sql.query(`select pool from swaps group by pool order by count(*) desc, pool limit 1`)).rows;
    pool = p.pool;
    times = (
      await h.sql.query<{ t: Date }>(`select distinct block_time as t from swaps where pool = $1 order by 1`, [pool])
    ).rows.map((r) => r.t.getTime());
  });
  afterAll(async () => {
    await h.close();
  });

  /** The candles of `pool` in [from, to) by `seconds`, from the swaps alone: epoch arithmetic, window functions. */
  async function expected(seconds: number, from: Date, to: Date) {
    const r = await h.sql.query(
      `with s as (
         select to_timestamp(floor(extract(epoch from s.block_time) / $2) * $2) as b, s.slot, s.tx_index, string_to_array(s.instruction_path, '.')::int[] as path,
           (case when s.mint_in = p.mint_a then s.amount_out::numeric / nullif(s.amount_in, 0) else s.amount_in::numeric / nullif(s.amount_out, 0) end)
             * 10::numeric ^ (coalesce(ta.decimals, 0) - coalesce(tb.decimals, 0)) as price,
           case when s.mint_in = p.mint_a then s.amount_in else s.amount_out end as va,
           case when s.mint_in = p.mint_a then s.amount_out else s.amount_in end as vb
         from swaps s join pools p on p.address = s.pool
         left join tokens ta on ta.mint = p.mint_a left join tokens tb on tb.mint = p.mint_b
         where s.pool = $1 and s.block_time >= $3 and s.block_time < $4),
       w as (
         select *, first_value(price) over (partition by b order by slot, tx_index, path rows between unbounded preceding and unbounded following) as o,
           last_value(price) over (partition by b order by slot, tx_index, path rows between unbounded preceding and unbounded following) as c
         from s where price is not null)
       select a.b, w.o::text as open, a.hi::text as high, a.lo::text as low, w.c::text as close, a.va::text as va, a.vb::text as vb, a.n
       from (select b, max(price) as hi, min(price) as lo, sum(va) as va, sum(vb) as vb, count(*)::int as n from s group by b) a
       left join (select distinct b, o, c from w) w on w.b = a.b
       order by a.b`,
      [pool, seconds, from, to],
    );
    return r.rows.map((e) => ({
      start: e.b.toISOString(),
      open: trim(e.open),
      high: trim(e.high),
      low: trim(e.low),
      close: trim(e.close),
      volumeA: e.va,
      volumeB: e.vb,
      swaps: e.n,
    }));
  }

  test("every interval, from and to inside minutes (and both in one minute): the same buckets as the swaps give", async () => {
    // Cut just after a swap followed by another in the same minute: the edge minutes hold swaps on both sides.
    const minute = (t: number) => Math.floor(t / 60_000);
    const cuts = times
      .map((_, i) => i)
      .filter((i) => i + 1 < times.length && minute(times[i]!) === minute(times[i + 1]!));
    const after = (i: number, ms: number) => new Date(times[i]! + ms);
    const [head, tail] = [cuts[0]!, cuts.at(-1)!];
    const ranges: [Date, Date][] = [
      [after(head, 500), after(tail, 500)],
      [after(head, 250), new Date(minute(times[tail]!) * 60_000)],
      [new Date(minute(times[head]!) * 60_000), after(tail, 1)],
      [after(0, -1), after(times.length - 1, 1)],
      [after(cuts[1]!, 1), after(cuts[1]! + 1, 1)],
    ];
    expect(times.some((t) => minute(t) === minute(ranges[0]![0].getTime()) && t < ranges[0]![0].getTime())).toBe(true);
    expect(times.some((t) => minute(t) === minute(ranges[0]![0].getTime()) && t >= ranges[0]![0].getTime())).toBe(true);
    expect(times.some((t) => minute(t) === minute(ranges[0]![1].getTime()) && t < ranges[0]![1].getTime())).toBe(true);
    expect(times.some((t) => minute(t) === minute(ranges[0]![1].getTime()) && t >= ranges[0]![1].getTime())).toBe(true);
    expect(minute(ranges[0]![1].getTime()) - minute(ranges[0]![0].getTime())).toBeGreaterThan(3);

    let buckets = 0;
    for (const [from, to] of ranges)
      for (const [interval, seconds] of [
        ["M1", 60],
        ["M5", 300],
        ["H1", 3_600],
        ["D1", 86_400],
      ] as const) {
        const r =
          await h.gql(`{ pool(address: "${pool}") { candles(interval: ${interval}, from: "${from.toISOString()}", to: "${to.toISOString()}") {
          start open high low close volumeA volumeB swaps } } }`);
        expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
        const want = await expected(seconds, from, to);
        expect(r.body.data.pool.candles, `${interval} [${from.toISOString()}, ${to.toISOString()})`).toEqual(want);
        buckets += want.length;
      }
    expect(buckets).toBeGreaterThan(30);
  });
});
