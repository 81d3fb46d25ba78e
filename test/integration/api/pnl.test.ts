/**
 * Wallet PnL through the API (`Account.pnl(window)`) over copies of the two whole mainnet blocks spread over 26
 * hours: every token's figures and the totals recomputed here in SQL from the raw trades (average cost by a
 * recursive walk in chain order), balances and prices.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseConfig } from "../../../core/config.js";
import type { DecodedBlock } from "../../../indexer/decode/index.js";
import { createPricer } from "../../../indexer/pricing/index.js";
import { createStore } from "../../../indexer/store/index.js";
import { type ApiHarness, setupApi } from "./harness.js";
import { copyBlock } from "../../setup/copy-block.js";

/**
 * Per mint a wallet ($1) traded in the window (trades from $2, null: all): the window's figures, realized PnL with
 * the average cost walked over every trade in chain order, and unrealized PnL on its balance at the latest price.
 */
const RECOMPUTE = `
  with recursive legs as (
    select row_number() over (order by slot, tx_index) as n, * from trades
    where trader = $1 and slot <= (select slot from cursors where id = 'pricing')),
  ev as (select m.mint, row_number() over (partition by m.mint order by l.n) as k, l.*
    from legs l cross join lateral (select distinct x from (values (l.sold_mint), (l.bought_mint)) v(x)) m(mint)),
  walk(mint, k, qty, cost, step) as (
    select distinct mint, 0::bigint, 0::numeric, 0::numeric, 0::numeric from ev
    union all
    select w.mint, e.k, b.q - s.cov, b.c - s.basis, s.realized
    from walk w join ev e on e.mint = w.mint and e.k = w.k + 1
      cross join lateral (select
        w.qty + case when e.bought_mint = w.mint and e.value_usd is not null then e.bought_amount else 0 end as q,
        w.cost + case when e.bought_mint = w.mint and e.value_usd is not null then e.value_usd else 0 end as c) b
      cross join lateral (select
        case when e.sold_mint = w.mint and e.value_usd is not null then least(e.sold_amount, b.q) else 0 end as cov) c0
      cross join lateral (select c0.cov,
        case when c0.cov > 0 then b.c * c0.cov / b.q else 0 end as basis,
        case when c0.cov > 0 then e.value_usd * c0.cov / e.sold_amount - b.c * c0.cov / b.q else 0 end as realized) s),
  fin as (select distinct on (mint) mint, qty, cost from walk order by mint, k desc),
  win as (select e.*, w.step from ev e join walk w on w.mint = e.mint and w.k = e.k
    where $2::timestamptz is null or e.block_time >= $2::timestamptz)
  select win.mint, count(*)::int as trades,
    coalesce(sum(bought_amount) filter (where bought_mint = win.mint), 0)::text as "boughtAmount",
    coalesce(sum(sold_amount) filter (where sold_mint = win.mint), 0)::text as "soldAmount",
    coalesce(sum(value_usd) filter (where bought_mint = win.mint), 0)::float8 as "boughtUsd",
    coalesce(sum(value_usd) filter (where sold_mint = win.mint), 0)::float8 as "soldUsd",
    sum(step)::float8 as "realizedPnlUsd",
    (select case when f.qty = 0 or p.unit is null then null
       else least(coalesce(h.amount, 0), f.qty) * p.unit - f.cost * least(coalesce(h.amount, 0), f.qty) / f.qty end
     from fin f left join token_holders h on h.mint = f.mint and h.owner = $1
       left join lateral (select case when f.mint = any($3::text[]) then 1 / 10::numeric ^ k.decimals
         else (select unit_price_usd from token_prices where mint = f.mint order by slot desc limit 1) end as unit
         from tokens k where k.mint = f.mint) p on true
     where f.mint = win.mint)::float8 as "unrealizedPnlUsd",
    min(win.slot)::int as "firstSlot", max(win.slot)::int as "lastSlot",
    min(win.block_time) as "firstTime", max(win.block_time) as "lastTime"
  from win group by win.mint order by win.mint`;

const STABLES = parseConfig({}).USD_STABLES;

describe("api: wallet PnL", () => {
  let h: ApiHarness;
  let wallets: string[];

  beforeAll(async () => {
    h = await setupApi({ fill: false });
    const copies = [0, 1, 2, 3, 4, 5].flatMap((j) => h.blocks.map((b) => copyBlock(b, j)));
    await createStore({ db: h.writer }).writeBlocks(copies, { commitment: "confirmed" });
    await createPricer({ db: h.writer, config: parseConfig({}) }).catchUp({
      upTo: Math.max(...copies.map((c) => c.slot)),
    });
    // the wallets that sold a token they had bought before (so average cost matters), busiest first
    const r = await h.sql.query<{ trader: string }>(
      `select s.trader from trades s where s.value_usd is not null and exists (select 1 from trades b
         where b.trader = s.trader and b.bought_mint = s.sold_mint and b.value_usd is not null
           and (b.slot, b.tx_index) < (s.slot, s.tx_index))
       group by s.trader order by count(*) desc, s.trader limit 5`,
    );
    wallets = r.rows.map((x) => x.trader);
  }, 60_000);
  afterAll(() => h.close());

  const close = (got: string | null, want: number | null, what: string) => {
    if (want == null) return expect(got, what).toBeNull();
    expect(got, what).not.toBeNull();
    expect(Math.abs(Number(got) - want), `${what}: ${got} vs ${want}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(want)));
  };

  test("every window's per-token figures and totals equal their recomputation from the raw trades", async () => {
    expect(wallets.length).toBeGreaterThan(0);
    let realized = 0;
    let unrealized = 0;
    let windowsDiffer = 0;
    for (const wallet of wallets) {
      const counts: number[] = [];
      for (const window of ["D1", "D7", "D30", "ALL"]) {
        const r = await h.gql(
          `query($a: String!, $w: PnlWindow!) { account(address: $a) { pnl(window: $w) { asOf from trades realizedPnlUsd
             unrealizedPnlUsd tokens { mint trades boughtAmount soldAmount boughtUsd soldUsd realizedPnlUsd
               unrealizedPnlUsd firstTrade { slot blockTime } lastTrade { slot blockTime } } } } }`,
          { a: wallet, w: window },
        );
        expect(r.body.errors).toBeUndefined();
        const pnl = r.body.data.account.pnl;
        const want = (await h.sql.query(RECOMPUTE, [wallet, pnl.from, STABLES])).rows;
        expect(pnl.tokens.map((t: { mint: string }) => t.mint)).toEqual(want.map((w) => w.mint));
        pnl.tokens.forEach((t: Record<string, any>, i: number) => {
          const w = want[i]!;
          const what = `${wallet} ${window} ${t.mint}`;
          expect(
            [
              t.trades,
              t.boughtAmount,
              t.soldAmount,
              t.firstTrade.slot,
              t.lastTrade.slot,
              new Date(t.firstTrade.blockTime).getTime(),
              new Date(t.lastTrade.blockTime).getTime(),
            ],
            what,
          ).toEqual([
            w.trades,
            w.boughtAmount,
            w.soldAmount,
            w.firstSlot,
            w.lastSlot,
            w.firstTime.getTime(),
            w.lastTime.getTime(),
          ]);
          close(t.boughtUsd, w.boughtUsd, `${what} boughtUsd`);
          close(t.soldUsd, w.soldUsd, `${what} soldUsd`);
          close(t.realizedPnlUsd, w.realizedPnlUsd, `${what} realized`);
          close(t.unrealizedPnlUsd, w.unrealizedPnlUsd, `${what} unrealized`);
          if (w.realizedPnlUsd !== 0) realized++;
          if (w.unrealizedPnlUsd != null) unrealized++;
        });
        close(
          pnl.realizedPnlUsd,
          want.reduce((a, w) => a + w.realizedPnlUsd, 0),
          `${wallet} ${window} total realized`,
        );
        close(
          pnl.unrealizedPnlUsd,
          want.reduce((a, w) => a + (w.unrealizedPnlUsd ?? 0), 0),
          `${wallet} ${window} total unrealized`,
        );
        counts.push(pnl.trades);
      }
      if (new Set(counts).size > 1) windowsDiffer++;
    }
    // the data exercises what matters: realized gains or losses, priced balances, windows that cut the history
    expect(realized).toBeGreaterThan(0);
    expect(unrealized).toBeGreaterThan(0);
    expect(windowsDiffer).toBeGreaterThan(0);
  });

  test("Token.topTraders: each window and order equals the traders' PnL on it recomputed from the raw trades", async () => {
    const mint = (
      await h.sql.query<{ mint: string }>(
        `select m as mint from (select sold_mint as m, trader from trades union all select bought_mint, trader from trades) x
         where m <> 'So11111111111111111111111111111111111111112'
         group by m order by count(distinct trader) desc, m limit 1`,
      )
    ).rows[0]!.mint;
    const traders = (
      await h.sql.query<{ trader: string }>(
        "select distinct trader from trades where $1 in (sold_mint, bought_mint) order by trader",
        [mint],
      )
    ).rows.map((r) => r.trader);
    expect(traders.length).toBeGreaterThan(3);
    let orders = 0;
    for (const window of ["D1", "ALL"]) {
      const asOf = await h.gql(`{ account(address: "x") { pnl(window: ${window}) { from } } }`);
      const from = asOf.body.data.account.pnl.from;
      const figures = [];
      for (const trader of traders) {
        const row = (await h.sql.query(RECOMPUTE, [trader, from, STABLES])).rows.find((r) => r.mint === mint);
        if (row)
          figures.push({
            trader,
            pnl: row.realizedPnlUsd + (row.unrealizedPnlUsd ?? 0),
            volume: row.boughtUsd + row.soldUsd,
            row,
          });
      }
      for (const [orderBy, key] of [
        ["PNL_DESC", "pnl"],
        ["VOLUME_DESC", "volume"],
      ] as const) {
        const want = [...figures].sort((a, b) => b[key] - a[key] || (a.trader < b.trader ? -1 : 1)).slice(0, 5);
        const r = await h.gql(
          `query($m: String!) { token(mint: $m) { topTraders(window: ${window}, orderBy: ${orderBy}, first: 5) {
             trader pnl { trades realizedPnlUsd unrealizedPnlUsd boughtUsd soldUsd } } } }`,
          { m: mint },
        );
        expect(r.body.errors).toBeUndefined();
        const got = r.body.data.token.topTraders;
        expect(
          got.map((g: { trader: string }) => g.trader),
          `${window} ${orderBy}`,
        ).toEqual(want.map((w) => w.trader));
        got.forEach((g: Record<string, any>, i: number) => {
          const w = want[i]!.row;
          expect(g.pnl.trades).toBe(w.trades);
          close(g.pnl.realizedPnlUsd, w.realizedPnlUsd, `${g.trader} realized`);
          close(g.pnl.unrealizedPnlUsd, w.unrealizedPnlUsd, `${g.trader} unrealized`);
        });
        if (new Set(want.map((w) => w[key])).size > 1) orders++;
      }
    }
    expect(orders).toBeGreaterThan(0);
  }, 60_000);

  test("a rollback of a buy in the middle of a wallet's history: its later sales are walked again from the basis below", async () => {
    const wallet = wallets[0]!;
    const query = `query($a: String!) { account(address: $a) { pnl(window: ALL) { trades realizedPnlUsd
      tokens { mint trades boughtAmount soldAmount realizedPnlUsd unrealizedPnlUsd } } } }`;
    const pnlNow = async () => {
      const r = await h.gql(query, { a: wallet });
      expect(r.body.errors).toBeUndefined();
      return r.body.data.account.pnl;
    };
    const before = await pnlNow();
    // its earliest priced buy of a mint it sold later at a priced value
    const slot = Number(
      (
        await h.sql.query<{ s: string }>(
          `select min(b.slot)::text as s from trades b where b.trader = $1 and b.value_usd is not null
             and exists (select 1 from trades s where s.trader = b.trader and s.sold_mint = b.bought_mint
               and s.value_usd is not null and (s.slot, s.tx_index) > (b.slot, b.tx_index))`,
          [wallet],
        )
      ).rows[0]!.s,
    );
    const store = createStore({ db: h.writer });
    await store.rollbackSlots([slot]);
    // the stage's rows stop below the rollback until it prices the rest again
    const above = await h.sql.query("select 1 from wallet_pnl where slot >= $1", [slot]);
    expect(above.rowCount).toBe(0);
    await createPricer({ db: h.writer, config: parseConfig({}) }).catchUp({
      upTo: Number((await h.sql.query("select max(slot) as s from slots")).rows[0]!.s),
    });
    const after = await pnlNow();
    expect(after.trades).toBeLessThan(before.trades);
    expect(after.realizedPnlUsd).not.toBe(before.realizedPnlUsd);
    const want = (await h.sql.query(RECOMPUTE, [wallet, null, STABLES])).rows;
    expect(after.tokens.map((t: { mint: string }) => t.mint)).toEqual(want.map((w) => w.mint));
    after.tokens.forEach((t: Record<string, any>, i: number) => {
      const w = want[i]!;
      expect([t.trades, t.boughtAmount, t.soldAmount], t.mint).toEqual([w.trades, w.boughtAmount, w.soldAmount]);
      close(t.realizedPnlUsd, w.realizedPnlUsd, `${t.mint} realized`);
      close(t.unrealizedPnlUsd, w.unrealizedPnlUsd, `${t.mint} unrealized`);
    });
  }, 60_000);
});
