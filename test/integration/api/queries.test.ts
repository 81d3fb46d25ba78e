/** Every query and filter of the schema, checked against SQL written here over the same database. */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { statusKey } from "../../../core/events.js";
import { type ApiHarness, setupApi } from "./harness.js";

const SOL = "So11111111111111111111111111111111111111112";
const USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
const ix = (e: { node: { signature: string; instructionPath: string } }) =>
  `${e.node.signature}/${e.node.instructionPath}`;
const IX_ORDER = "slot desc, tx_index desc, instruction_path desc";

describe("api queries", () => {
  let h: ApiHarness;
  let redis: Redis;
  const q = async (query: string, variables?: Record<string, unknown>) => {
    const r = await h.gql(query, variables);
    expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
    return r.body.data;
  };
  const rows = async <T = Record<string, any>>(text: string, params: unknown[] = []) =>
    (await h.sql.query(text, params)).rows as T[];

  beforeAll(async () => {
    redis = new Redis(inject("redisUrl"));
    h = await setupApi({ context: { redis } });
  });
  afterAll(async () => {
    await redis.del(statusKey(h.prefix));
    redis.disconnect();
    await h.close();
  });

  test("token(mint) returns the stored row; an unknown mint is null", async () => {
    const d = await q(
      `{ token(mint: "${USDC}") { mint program decimals supply symbol firstSeenSlot } none: token(mint: "x") { mint } }`,
    );
    const [row] = await rows(`select mint, program, decimals, first_seen_slot from tokens where mint = $1`, [USDC]);
    expect(d.token).toEqual({
      mint: USDC,
      program: row!.program === "spl-token" ? "SPL_TOKEN" : "TOKEN_2022",
      decimals: row!.decimals,
      supply: null,
      symbol: null,
      firstSeenSlot: Number(row!.first_seen_slot),
    });
    expect(d.none).toBeNull();
  });

  test("tokens: where program, orderBy mint, totalCount", async () => {
    const d = await q(`{ t22: tokens(first: 1000, where: { program: TOKEN_2022 }) { totalCount edges { node { mint } } }
                         byMint: tokens(first: 10, orderBy: { field: MINT, direction: ASC }) { edges { node { mint } } } }`);
    const t22 = await rows(
      `select mint from tokens where program = 'token-2022' order by first_seen_slot desc, mint desc`,
    );
    expect(t22.length).toBeGreaterThan(0);
    expect(d.t22.edges.map((e: any) => e.node.mint)).toEqual(t22.map((r) => r.mint));
    expect(d.t22.totalCount).toBe(t22.length);
    const byMint = await rows(`select mint from tokens order by mint collate "default" asc limit 10`);
    expect(d.byMint.edges.map((e: any) => e.node.mint)).toEqual(byMint.map((r) => r.mint));
  });

  test("pool(address): fields, and price from the reserves with decimals applied", async () => {
    const [p] = await rows(
      `select p.*, ta.decimals da, tb.decimals db,
        (p.reserve_b::numeric / 10::numeric ^ tb.decimals) / (p.reserve_a::numeric / 10::numeric ^ ta.decimals) as price
      from pools p join tokens ta on ta.mint = p.mint_a join tokens tb on tb.mint = p.mint_b
      where p.reserve_a > 0 and p.reserve_b > 0 and p.mint_b = $1 order by p.address limit 1`,
      [SOL],
    );
    const d = await q(
      `{ pool(address: "${p!.address}") { address dex programId tokenA { mint } tokenB { mint } vaultA vaultB reserveA reserveB price lastSwapSlot } }`,
    );
    expect(d.pool).toMatchObject({
      address: p!.address,
      dex: p!.dex,
      programId: p!.program_id,
      tokenA: { mint: p!.mint_a },
      tokenB: { mint: SOL },
      vaultA: p!.vault_a,
      reserveA: p!.reserve_a,
      reserveB: p!.reserve_b,
    });
    // 15 significant digits agree with Postgres' numeric division.
    const sig = (s: string) => s.replace(".", "").replace(/^0+/, "").slice(0, 15);
    expect(sig(d.pool.price)).toBe(sig(String(p!.price)));
  });

  test("pools: where dex, mint, tokenA, tokenB; default order is newest swap first", async () => {
    const d = await q(`{ dex: pools(first: 500, where: { dex: "raydium-clmm" }) { edges { node { address } } }
                         mint: pools(first: 500, where: { mint: "${USDC}" }) { edges { node { address } } }
                         a: pools(first: 500, where: { tokenA: "${SOL}" }) { edges { node { address } } }
                         b: pools(first: 500, where: { tokenB: "${SOL}" }) { edges { node { address } } }
                         all: pools(first: 500) { totalCount edges { node { address lastSwapSlot } } } }`);
    const addr = (c: any) => c.edges.map((e: any) => e.node.address).sort();
    const sql = async (where: string, p: unknown[]) =>
      (await rows(`select address from pools where ${where}`, p)).map((r) => r.address).sort();
    expect(addr(d.dex)).toEqual(await sql("dex = $1", ["raydium-clmm"]));
    expect(addr(d.mint)).toEqual(await sql("mint_a = $1 or mint_b = $1", [USDC]));
    expect(addr(d.a)).toEqual(await sql("mint_a = $1", [SOL]));
    expect(addr(d.b)).toEqual(await sql("mint_b = $1", [SOL]));
    expect(d.mint.edges.length).toBeGreaterThan(0);
    const ordered = await rows(`select address from pools order by coalesce(last_swap_slot, -1) desc, address desc`);
    expect(d.all.edges.map((e: any) => e.node.address)).toEqual(ordered.map((r) => r.address));
    expect(d.all.totalCount).toBe(ordered.length);
  });

  test("pool volume over a window equals the SQL sum of its swaps", async () => {
    const [p] = await rows(`select pool from swaps group by pool order by count(*) desc, pool limit 1`);
    const until = "2025-04-09T04:54:30Z"; // between the two blocks: only the first block's swaps are in the H1 window
    const d =
      await q(`{ pool(address: "${p!.pool}") { h1: volume(window: H1, until: "${until}") { swaps volumeA volumeB from to }
                                                       h24: volume(window: H24) { swaps volumeA volumeB } } }`);
    const vol = async (to: string) =>
      (
        await rows(
          `select count(*)::int n, coalesce(sum(case when s.mint_in = p.mint_a then amount_in else amount_out end), 0)::text a,
                    coalesce(sum(case when s.mint_in = p.mint_b then amount_in else amount_out end), 0)::text b
                  from swaps s join pools p on p.address = s.pool
                  where s.pool = $1 and s.block_time > $2::timestamptz - interval '1 hour' and s.block_time <= $2::timestamptz`,
          [p!.pool, to],
        )
      )[0]!;
    const h1 = await vol(until);
    expect(d.pool.h1).toEqual({
      swaps: h1.n,
      volumeA: h1.a,
      volumeB: h1.b,
      from: "2025-04-09T03:54:30.000Z",
      to: "2025-04-09T04:54:30.000Z",
    });
    const all = await rows(`select count(*)::int n from swaps where pool = $1`, [p!.pool]);
    expect(d.pool.h24.swaps).toBe(all[0]!.n);
  });

  test("candles: OHLCV per bucket from the swaps, checked with window functions", async () => {
    const [p] = await rows(`select pool from swaps group by pool order by count(*) desc, pool limit 1`);
    const d = await q(
      `{ pool(address: "${p!.pool}") { candles(interval: M1, from: "2025-04-09T00:00:00Z", to: "2025-04-10T00:00:00Z") { start open high low close volumeA volumeB swaps } } }`,
    );
    const expected = await rows(
      `
      with s as (
        select date_trunc('minute', s.block_time) b, s.slot, s.tx_index, s.instruction_path,
          (case when s.mint_in = p.mint_a then s.amount_out::numeric / s.amount_in else s.amount_in::numeric / s.amount_out end)
            * 10::numeric ^ (ta.decimals - tb.decimals) as price,
          case when s.mint_in = p.mint_a then s.amount_in else s.amount_out end va
        from swaps s join pools p on p.address = s.pool join tokens ta on ta.mint = p.mint_a join tokens tb on tb.mint = p.mint_b
        where s.pool = $1),
      w as (select b, price, va,
              first_value(price) over (partition by b order by slot, tx_index, instruction_path rows between unbounded preceding and unbounded following) o,
              last_value(price) over (partition by b order by slot, tx_index, instruction_path rows between unbounded preceding and unbounded following) c
            from s)
      select b, min(o) o, max(price) hi, min(price) lo, min(c) c, sum(va)::text va, count(*)::int n from w group by b order by b`,
      [p!.pool],
    );
    expect(d.pool.candles.length).toBe(expected.length);
    const close = (a: string, b: unknown) => expect(Number(a)).toBeCloseTo(Number(b), 12);
    d.pool.candles.forEach((c: any, i: number) => {
      const e = expected[i]!;
      expect(new Date(c.start).getTime()).toBe(new Date(e.b).getTime());
      close(c.open, e.o);
      close(c.high, e.hi);
      close(c.low, e.lo);
      close(c.close, e.c);
      expect(c.volumeA).toBe(e.va);
      expect(c.swaps).toBe(e.n);
    });
  });

  test("swaps: where pool, trader, mint, slot range, time range", async () => {
    const [s] = await rows(`select pool, trader from swaps group by pool, trader order by count(*) desc, pool limit 1`);
    const second = Math.max(...h.blocks.map((b) => b.slot));
    const d = await q(
      `query($pool: String, $trader: String) {
      byPool: swaps(first: 500, where: { pool: $pool }) { totalCount edges { node { signature instructionPath } } }
      byTrader: swaps(first: 500, where: { trader: $trader }) { edges { node { signature instructionPath } } }
      byMint: swaps(first: 500, where: { mint: "${USDC}" }) { edges { node { signature instructionPath } } }
      bySlot: swaps(first: 500, where: { slot: { gte: ${second}, lte: ${second} } }) { edges { node { signature instructionPath } } }
      byTime: swaps(first: 500, where: { blockTime: { lte: "2025-04-09T04:54:30Z" } }) { edges { node { signature instructionPath } } }
    }`,
      { pool: s!.pool, trader: s!.trader },
    );
    const sql = async (where: string, p: unknown[]) =>
      (
        await rows(`select signature || '/' || instruction_path k from swaps where ${where} order by ${IX_ORDER}`, p)
      ).map((r) => r.k);
    expect(d.byPool.edges.map(ix)).toEqual(await sql("pool = $1", [s!.pool]));
    expect(d.byPool.totalCount).toBe(d.byPool.edges.length);
    expect(d.byTrader.edges.map(ix)).toEqual(await sql("trader = $1", [s!.trader]));
    expect(d.byMint.edges.map(ix)).toEqual(await sql("mint_in = $1 or mint_out = $1", [USDC]));
    expect(d.bySlot.edges.map(ix)).toEqual(await sql("slot = $1", [second]));
    expect(d.byTime.edges.map(ix)).toEqual(await sql("block_time <= $1", ["2025-04-09T04:54:30Z"]));
    expect(d.byMint.edges.length).toBeGreaterThan(0);
    expect(d.byTime.edges.length).toBeGreaterThan(0);
  });

  test("swap fields, decimal-adjusted amounts and relations", async () => {
    const [s] = await rows(
      `select s.*, t.decimals from swaps s join tokens t on t.mint = s.mint_in where s.mint_in = $1 order by ${IX_ORDER} limit 1`,
      [USDC],
    );
    const d = await q(`{ swaps(first: 1, where: { mint: "${USDC}", signature: "${s!.signature}" }) { edges { node {
      signature instructionPath slot blockTime trader amountIn amountOut amountInUi mintIn mintOut dex pool { address } tokenIn { mint } transaction { signature success } } } } }`);
    const n = d.swaps.edges[0].node;
    expect(n).toMatchObject({
      signature: s!.signature,
      instructionPath: s!.instruction_path,
      slot: Number(s!.slot),
      trader: s!.trader,
      amountIn: s!.amount_in,
      amountOut: s!.amount_out,
      dex: s!.dex,
    });
    expect(n.blockTime).toBe(new Date(s!.block_time).toISOString());
    expect(Number(n.amountInUi)).toBe(Number(s!.amount_in) / 1e6);
    expect(n.pool.address).toBe(s!.pool);
    expect(n.tokenIn.mint).toBe(USDC);
    expect(n.transaction.signature).toBe(s!.signature);
  });

  test("transfers: where mint, account, kind; Token.transfers", async () => {
    const [a] = await rows(
      `select source_owner a from token_transfers where source_owner is not null group by 1 order by count(*) desc, 1 limit 1`,
    );
    const d =
      await q(`{ mint: transfers(first: 1000, where: { mint: "${USDC}" }) { edges { node { signature instructionPath } } }
      account: transfers(first: 1000, where: { account: "${a!.a}" }) { edges { node { signature instructionPath } } }
      mints: transfers(first: 1000, where: { kind: MINT }) { edges { node { signature instructionPath kind destination amount } } }
      token(mint: "${USDC}") { transfers(first: 1000) { totalCount edges { node { signature instructionPath } } } } }`);
    const sql = async (where: string, p: unknown[]) =>
      (
        await rows(
          `select signature || '/' || instruction_path k from token_transfers where ${where} order by ${IX_ORDER}`,
          p,
        )
      ).map((r) => r.k);
    const usdc = await sql("mint = $1", [USDC]);
    expect(d.mint.edges.map(ix)).toEqual(usdc);
    expect(d.token.transfers.edges.map(ix)).toEqual(usdc);
    expect(d.token.transfers.totalCount).toBe(usdc.length);
    expect(d.account.edges.map(ix)).toEqual(
      await sql("$1 in (source_owner, destination_owner, source, destination)", [a!.a]),
    );
    expect(d.mints.edges.map(ix)).toEqual(await sql("kind = 'mint'", []));
    expect(d.mints.edges.every((e: any) => e.node.kind === "MINT")).toBe(true);
  });

  test("transaction(signature) with its swaps, transfers and program events", async () => {
    const [t] =
      await rows(`select t.* from transactions t where exists (select 1 from program_events e where e.signature = t.signature)
                              and exists (select 1 from swaps s where s.signature = t.signature) order by slot, tx_index limit 1`);
    const d =
      await q(`{ transaction(signature: "${t!.signature}") { signature slot fee success feePayer computeUnits programIds position
      swaps { instructionPath } transfers { instructionPath amount } events { name kind instructionPath data } } }`);
    expect(d.transaction).toMatchObject({
      signature: t!.signature,
      slot: Number(t!.slot),
      fee: t!.fee,
      success: t!.success,
      feePayer: t!.fee_payer,
      programIds: t!.program_ids,
      position: t!.tx_index,
    });
    const paths = async (table: string) =>
      (await rows(`select instruction_path p from ${table} where signature = $1`, [t!.signature]))
        .map((r) => r.p)
        .sort();
    expect(d.transaction.swaps.map((s: any) => s.instructionPath).sort()).toEqual(await paths("swaps"));
    expect(d.transaction.transfers.map((s: any) => s.instructionPath).sort()).toEqual(await paths("token_transfers"));
    const events = await rows(
      `select name, data from program_events where signature = $1 order by name, instruction_path, ordinal`,
      [t!.signature],
    );
    expect(d.transaction.events.length).toBe(events.length);
    expect(d.transaction.events.map((e: any) => e.name).sort()).toEqual(events.map((e) => e.name).sort());
    expect(d.transaction.events.find((e: any) => e.name === events[0]!.name).data).toEqual(events[0]!.data);
  });

  test("transactions: where program, account, success, slot range", async () => {
    const [payer] = await rows(`select fee_payer a from transactions group by 1 order by count(*) desc, 1 limit 1`);
    const [trader] = await rows(
      `select trader a from swaps s where not exists (select 1 from transactions t where t.signature = s.signature and t.fee_payer = s.trader) limit 1`,
    );
    const first = Math.min(...h.blocks.map((b) => b.slot));
    const PUMP = "pAMMBay6oceH9fJKBRHGP5D4bD4sWpmSwMn52FMfXEA";
    const d =
      await q(`{ program: transactions(first: 1000, where: { program: "${PUMP}" }) { totalCount edges { node { signature } } }
      payer: transactions(first: 1000, where: { account: "${payer!.a}" }) { edges { node { signature } } }
      failed: transactions(first: 1000, where: { success: false, slot: { lte: ${first} } }) { edges { node { signature success slot } } }
      ${trader ? `trader: transactions(first: 1000, where: { account: "${trader.a}" }) { edges { node { signature } } }` : ""} }`);
    const sigs = (c: any) => c.edges.map((e: any) => e.node.signature);
    const sql = async (where: string, p: unknown[]) =>
      (await rows(`select signature from transactions t where ${where} order by slot desc, tx_index desc`, p)).map(
        (r) => r.signature,
      );
    expect(sigs(d.program)).toEqual(await sql("$1 = any(program_ids)", [PUMP]));
    expect(d.program.totalCount).toBeGreaterThan(0);
    const involved = `fee_payer = $1 or signature in (select signature from swaps where trader = $1)
      or signature in (select signature from token_transfers where $1 in (source_owner, destination_owner, source, destination))`;
    expect(sigs(d.payer)).toEqual(await sql(involved, [payer!.a]));
    expect(sigs(d.failed)).toEqual(await sql("not success and slot <= $1", [first]));
    expect(sigs(d.failed).length).toBeGreaterThan(0);
    if (trader) expect(sigs(d.trader)).toEqual(await sql(involved, [trader.a]));
  });

  test("account(address): its swaps as trader and its transfers on either side", async () => {
    const [a] = await rows(`select trader a from swaps group by 1 order by count(*) desc, 1 limit 1`);
    const d =
      await q(`{ account(address: "${a!.a}") { address swaps(first: 50) { edges { node { signature instructionPath } } }
      transfers(first: 1000) { edges { node { signature instructionPath } } } } }`);
    const s = await rows(
      `select signature || '/' || instruction_path k from swaps where trader = $1 order by ${IX_ORDER} limit 50`,
      [a!.a],
    );
    const t = await rows(
      `select signature || '/' || instruction_path k from token_transfers where $1 in (source_owner, destination_owner, source, destination) order by ${IX_ORDER}`,
      [a!.a],
    );
    expect(d.account.swaps.edges.map(ix)).toEqual(s.map((r) => r.k));
    expect(d.account.transfers.edges.map(ix)).toEqual(t.map((r) => r.k));
    expect(d.account.transfers.edges.length).toBeGreaterThan(0);
  });

  test("programEvents and liquidity events", async () => {
    const d = await q(
      `{ programEvents(first: 1000, where: { name: "SwapEvent", kind: CPI_EVENT }) { totalCount edges { node { signature programId } } } }`,
    );
    const n = await rows(`select count(*)::int n from program_events where name = 'SwapEvent' and kind = 'cpi_event'`);
    expect(d.programEvents.totalCount).toBe(n[0]!.n);
    expect(d.programEvents.edges.length).toBe(n[0]!.n);
    const [l] = await rows(`select * from liquidity_events order by slot, tx_index limit 1`);
    const lq = await q(
      `{ pool(address: "${l!.pool}") { liquidityEvents(first: 10) { edges { node { signature kind owner amountA amountB } } } } }`,
    );
    expect(lq.pool.liquidityEvents.edges.map((e: any) => e.node)).toContainEqual({
      signature: l!.signature,
      kind: "ADD",
      owner: l!.owner,
      amountA: l!.amount_a,
      amountB: l!.amount_b,
    });
  });

  test("indexerStatus: stored progress from Postgres, tip and queue depth from the Redis status hash", async () => {
    const latest = Math.max(...h.blocks.map((b) => b.slot));
    const none = await q(
      `{ indexerStatus { latestSlot finalizedSlot chainTip lagSlots queueDepth backfills { id } } }`,
    );
    expect(none.indexerStatus).toEqual({
      latestSlot: latest,
      finalizedSlot: null,
      chainTip: null,
      lagSlots: null,
      queueDepth: null,
      backfills: [],
    });
    const first = Math.min(...h.blocks.map((b) => b.slot));
    await h.sql.query(`update slots set commitment = 'finalized' where slot = $1`, [first]);
    await h.sql.query(
      `insert into cursors (id, kind, status, slot, done, total) values ('backfill-t', 'backfill', 'running', 100, 5, 10), ('backfill-d', 'backfill', 'done', 1, 1, 1), ('live', 'live', 'running', $1, 0, null)`,
      [latest],
    );
    await redis.hset(statusKey(h.prefix), {
      chainTip: String(latest + 25),
      queueDepth: "7",
      updatedAt: String(Date.now()),
    });
    const d = await q(
      `{ indexerStatus { latestSlot resumeSlot finalizedSlot chainTip lagSlots lagSeconds queueDepth statusUpdatedAt backfills { id status slot done total } } }`,
    );
    expect(d.indexerStatus).toMatchObject({
      latestSlot: latest,
      resumeSlot: latest,
      finalizedSlot: first,
      chainTip: latest + 25,
      lagSlots: 25,
      queueDepth: 7,
    });
    expect(d.indexerStatus.lagSeconds).toBeGreaterThan(0);
    expect(d.indexerStatus.backfills).toEqual([{ id: "backfill-t", status: "running", slot: 100, done: 5, total: 10 }]);
    await h.sql.query(`delete from cursors`);
    await h.sql.query(`update slots set commitment = 'confirmed'`);
  });
});
