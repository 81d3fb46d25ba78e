/**
 * Balances through the API: Token.holders and holderCount, Account.solBalance, balances and tokenAccounts,
 * tokenAccount(address), over the two mainnet blocks as the store wrote them (their transactions' own token balances),
 * checked against the tables read back: exact values, keyset pages both ways, the guards' refusals and prices, and
 * one statement per list level.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { formatUnits } from "../../../api/graph/format.js";
import { type BalanceRows, storedBalanceRows } from "./balance-rows.js";
import { type ApiHarness, PLAIN, setupApi } from "./harness.js";

const WSOL = "So11111111111111111111111111111111111111112";
const USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";

const HOLDERS = `query($mint: String!, $first: Int, $after: String, $last: Int, $before: String) {
  token(mint: $mint) { holderCount holders(first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { owner amount amountUi share accounts } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }`;

/** Largest first, equal amounts by owner: the order the API promises. */
const byBalance = (a: { amount: bigint; owner: string }, b: { amount: bigint; owner: string }) =>
  a.amount === b.amount ? (a.owner < b.owner ? -1 : 1) : a.amount > b.amount ? -1 : 1;

describe("api balances", () => {
  let h: ApiHarness;
  let rows: BalanceRows;
  let decimals: Map<string, number | null>;
  /** the owner holding the most mints, and the owner of the most open token accounts */
  let OWNER: string;
  let ACCOUNTS_OWNER: string;

  const holdersOf = (mint: string) => rows.holders.filter((x) => x.mint === mint && x.amount > 0n);

  beforeAll(async () => {
    h = await setupApi();
    rows = await storedBalanceRows(h.sql);
    const most = (keys: string[]) => {
      const n = new Map<string, number>();
      for (const k of keys) n.set(k, (n.get(k) ?? 0) + 1);
      return [...n.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]![0];
    };
    OWNER = most(rows.holders.filter((x) => x.amount > 0n).map((x) => x.owner));
    ACCOUNTS_OWNER = most([...rows.accounts.values()].filter((a) => !a.closed && a.owner).map((a) => a.owner!));
    const { rows: toks } = await h.sql.query<{ mint: string; decimals: number | null }>(
      `select mint, decimals from tokens`,
    );
    decimals = new Map(toks.map((t) => [t.mint, t.decimals]));
  });
  afterAll(() => h.close());

  test("a mint's holders: every positive holder once, largest first, with exact amounts, amountUi and accounts", async () => {
    const expected = holdersOf(WSOL).sort(byBalance);
    expect(expected.length).toBeGreaterThan(100);
    expect(decimals.get(WSOL)).toBe(9);
    const r = await h.gql(HOLDERS, { mint: WSOL, first: 1000 });
    expect(r.body.errors).toBeUndefined();
    // holderCount is the owners whose open wSOL accounts hold more than 0 together
    const sums = new Map<string, bigint>();
    for (const a of rows.accounts.values())
      if (a.mint === WSOL && !a.closed && a.owner) sums.set(a.owner, (sums.get(a.owner) ?? 0n) + a.amount);
    const positive = [...sums.values()].filter((v) => v > 0n).length;
    expect(r.body.data.token.holderCount).toBe(positive);
    expect(expected.length).toBe(positive);
    const got = r.body.data.token.holders.edges.map((e: any) => e.node);
    expect(got.map((n: any) => [n.owner, n.amount, n.accounts])).toEqual(
      expected.map((x) => [x.owner, x.amount.toString(), x.accounts]),
    );
    expect(got.map((n: any) => n.amountUi)).toEqual(expected.map((x) => formatUnits(x.amount, 9)));
    // an owner of several wSOL accounts holds their sum
    const multi = got.filter((n: any) => n.accounts > 1);
    expect(multi.length).toBeGreaterThan(0);
    for (const n of multi) expect(n.amount).toBe(sums.get(n.owner)!.toString());
    expect(r.body.data.token.holders.pageInfo.hasNextPage).toBe(false);
  });

  test("share is amount / supply, exact and truncated, and null while the supply is unknown", async () => {
    const holders = holdersOf(USDC).sort(byBalance);
    const unknown = await h.gql(HOLDERS, { mint: USDC, first: 1 });
    expect(unknown.body.data.token.holders.edges[0].node.share).toBeNull();
    // A supply four times the top holder's balance: it holds exactly a quarter.
    const supply = holders[0]!.amount * 4n;
    await h.sql.query(`update tokens set supply = $2 where mint = $1`, [USDC, supply.toString()]);
    try {
      const r = await h.gql(HOLDERS, { mint: USDC, first: 100 });
      const nodes = r.body.data.token.holders.edges.map((e: any) => e.node);
      expect(nodes[0].share).toBe("0.25");
      for (const [i, n] of nodes.entries()) {
        // share = s exactly truncated: s * supply <= amount < (s + one unit of its last digit) * supply
        const [int, frac = ""] = (n.share as string).split(".");
        const scaled = BigInt(int! + frac);
        const unit = 10n ** BigInt(frac.length);
        expect(scaled * supply <= holders[i]!.amount * unit).toBe(true);
        expect((scaled + 1n) * supply > holders[i]!.amount * unit).toBe(true);
        // and 18 significant digits at least: its relative error is below 1e-17
        const exact = holders[i]!.amount * unit;
        expect((exact - scaled * supply) * 10n ** 17n < exact).toBe(true);
      }
    } finally {
      await h.sql.query(`update tokens set supply = null where mint = $1`, [USDC]);
    }
  });

  test("holders page forward and backward: each holder once, in order, pageInfo exact", async () => {
    const expected = holdersOf(WSOL)
      .sort(byBalance)
      .map((x) => x.owner);
    const forward: string[] = [];
    let after: string | null = null;
    for (let i = 0; ; i++) {
      const r: any = await h.gql(HOLDERS, { mint: WSOL, first: 37, after });
      const c = r.body.data.token.holders;
      forward.push(...c.edges.map((e: any) => e.node.owner));
      expect(c.pageInfo.hasPreviousPage).toBe(after !== null);
      if (!c.pageInfo.hasNextPage) break;
      after = c.pageInfo.endCursor;
    }
    expect(forward).toEqual(expected);
    const backward: string[] = [];
    let before: string | null = null;
    for (;;) {
      const r: any = await h.gql(HOLDERS, { mint: WSOL, last: 50, before });
      const c = r.body.data.token.holders;
      backward.unshift(...c.edges.map((e: any) => e.node.owner));
      if (!c.pageInfo.hasPreviousPage) break;
      before = c.pageInfo.startCursor;
    }
    expect(backward).toEqual(expected);
  });

  test("equal balances page by owner, ascending, without losing or repeating one", async () => {
    // Three real USDC holders set to one balance (the real data has no ties), restored after.
    const tied = holdersOf(USDC).sort(byBalance).slice(3, 6);
    const amount = tied[0]!.amount.toString();
    await h.sql.query(`update token_holders set amount = $2 where mint = $1 and owner = any($3)`, [
      USDC,
      amount,
      tied.map((x) => x.owner),
    ]);
    try {
      const expected = holdersOf(USDC)
        .map((x) => ({ ...x, amount: tied.includes(x) ? BigInt(amount) : x.amount }))
        .sort(byBalance)
        .map((x) => `${x.owner} ${x.amount}`);
      expect(expected.slice(3, 6)).toEqual(
        tied
          .map((x) => x.owner)
          .sort()
          .map((o) => `${o} ${amount}`),
      );
      const seen: string[] = [];
      let after: string | null = null;
      for (;;) {
        const r: any = await h.gql(HOLDERS, { mint: USDC, first: 1, after });
        const c = r.body.data.token.holders;
        seen.push(...c.edges.map((e: any) => `${e.node.owner} ${e.node.amount}`));
        if (!c.pageInfo.hasNextPage) break;
        after = c.pageInfo.endCursor;
      }
      expect(seen).toEqual(expected);
      const back: string[] = [];
      let before: string | null = null;
      for (;;) {
        const r: any = await h.gql(HOLDERS, { mint: USDC, last: 2, before });
        const c = r.body.data.token.holders;
        back.unshift(...c.edges.map((e: any) => `${e.node.owner} ${e.node.amount}`));
        if (!c.pageInfo.hasPreviousPage) break;
        before = c.pageInfo.startCursor;
      }
      expect(back).toEqual(expected);
    } finally {
      for (const x of tied)
        await h.sql.query(`update token_holders set amount = $3 where mint = $1 and owner = $2`, [
          USDC,
          x.owner,
          x.amount.toString(),
        ]);
    }
  });

  test("a cursor of another list or a forged key is refused (BAD_CURSOR)", async () => {
    const other = await h.gql(`{ account(address: "x") { tokenAccounts(first: 1) { pageInfo { endCursor } } } }`);
    expect(other.body.errors).toBeUndefined();
    const pools = await h.gql(`{ pools(first: 1) { pageInfo { endCursor } } }`);
    const cursor = pools.body.data.pools.pageInfo.endCursor;
    const r = await h.gql(HOLDERS, { mint: WSOL, first: 2, after: cursor });
    expect(r.body.errors?.[0]?.extensions?.code).toBe("BAD_CURSOR");
    const forged = Buffer.from(JSON.stringify([1, "balance", "1.5e3", "x"])).toString("base64url");
    const f = await h.gql(HOLDERS, { mint: WSOL, first: 2, after: forged });
    expect(f.body.errors?.[0]?.extensions?.code).toBe("BAD_CURSOR");
  });

  test("an owner's balances: one per mint, by mint, positive only, with its tokens, in pages", async () => {
    const expected = rows.holders
      .filter((x) => x.owner === OWNER && x.amount > 0n)
      .sort((a, b) => (a.mint < b.mint ? -1 : 1));
    expect(expected.length).toBeGreaterThan(10);
    const seen: any[] = [];
    let after: string | null = null;
    for (;;) {
      const r: any = await h.gql(
        `query($o: String!, $after: String) { account(address: $o) { balances(first: 10, after: $after) {
          edges { node { mint token { mint decimals } amount amountUi accounts } } pageInfo { hasNextPage endCursor } } } }`,
        { o: OWNER, after },
      );
      expect(r.body.errors).toBeUndefined();
      const c = r.body.data.account.balances;
      seen.push(...c.edges.map((e: any) => e.node));
      if (!c.pageInfo.hasNextPage) break;
      after = c.pageInfo.endCursor;
    }
    expect(seen.map((n) => [n.mint, n.amount, n.accounts])).toEqual(
      expected.map((x) => [x.mint, x.amount.toString(), x.accounts]),
    );
    for (const n of seen) {
      const d = decimals.get(n.mint);
      expect(n.token?.mint ?? null).toBe(decimals.has(n.mint) ? n.mint : null);
      expect(n.amountUi).toBe(d == null ? null : formatUnits(n.amount, d));
    }
  });

  test("solBalance: a signer's lamports after its latest stored transaction; null for an address that signed none", async () => {
    const wallet = rows.wallets.get(OWNER) ?? [...rows.wallets.values()][0]!;
    const r = await h.gql(
      `query($a: String!, $b: String!) { a: account(address: $a) { solBalance solBalanceUi } b: account(address: $b) { solBalance solBalanceUi } }`,
      { a: wallet.address, b: WSOL },
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.a).toEqual({
      solBalance: wallet.lamports.toString(),
      solBalanceUi: formatUnits(wallet.lamports, 9),
    });
    expect(r.body.data.b).toEqual({ solBalance: null, solBalanceUi: null });
  });

  test("an owner's token accounts: open ones by mint then address, in pages; closed ones on request", async () => {
    const expected = [...rows.accounts.values()]
      .filter((a) => a.owner === ACCOUNTS_OWNER && !a.closed)
      .sort((a, b) => (a.mint === b.mint ? (a.address < b.address ? -1 : 1) : a.mint < b.mint ? -1 : 1));
    expect(expected.length).toBeGreaterThan(14);
    const seen: any[] = [];
    let after: string | null = null;
    for (;;) {
      const r: any = await h.gql(
        `query($o: String!, $after: String) { account(address: $o) { tokenAccounts(first: 7, after: $after) {
          edges { node { address mint owner program amount closed slot txIndex } } pageInfo { hasNextPage endCursor } } } }`,
        { o: ACCOUNTS_OWNER, after },
      );
      expect(r.body.errors).toBeUndefined();
      const c = r.body.data.account.tokenAccounts;
      seen.push(...c.edges.map((e: any) => e.node));
      if (!c.pageInfo.hasNextPage) break;
      after = c.pageInfo.endCursor;
    }
    expect(seen).toEqual(
      expected.map((a) => ({
        address: a.address,
        mint: a.mint,
        owner: a.owner,
        program: a.program === "token-2022" ? "TOKEN_2022" : "SPL_TOKEN",
        amount: a.amount.toString(),
        closed: false,
        slot: a.slot,
        txIndex: a.txIndex,
      })),
    );
    const closed = [...rows.accounts.values()].find((a) => a.closed)!;
    const c = await h.gql(
      `query($o: String!) { account(address: $o) { tokenAccounts(where: { closed: true }) { edges { node { address amount closed } } } } }`,
      { o: closed.owner },
    );
    expect(c.body.data.account.tokenAccounts.edges.map((e: any) => e.node)).toEqual(
      [...rows.accounts.values()]
        .filter((a) => a.closed && a.owner === closed.owner)
        .map((a) => ({ address: a.address, amount: "0", closed: true })),
    );
  });

  test("tokenAccount(address): the account's latest state, exact; null for an address never seen", async () => {
    const open = [...rows.accounts.values()].find((a) => a.mint === WSOL && a.amount > 0n && a.owner)!;
    const closed = [...rows.accounts.values()].find((a) => a.closed)!;
    const q = `query($a: String!) { tokenAccount(address: $a) { address mint token { mint } owner program amount amountUi closed slot txIndex } }`;
    const r = await h.gql(q, { a: open.address });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.tokenAccount).toEqual({
      address: open.address,
      mint: WSOL,
      token: { mint: WSOL },
      owner: open.owner,
      program: "SPL_TOKEN",
      amount: open.amount.toString(),
      amountUi: formatUnits(open.amount, 9),
      closed: false,
      slot: open.slot,
      txIndex: open.txIndex,
    });
    const c = await h.gql(q, { a: closed.address });
    expect(c.body.data.tokenAccount).toMatchObject({ address: closed.address, amount: "0", closed: true });
    expect((await h.gql(q, { a: open.owner })).body.data.tokenAccount).toBeNull();
  });

  test("first over 1,000 on any new list is refused before SQL (FIRST_LIMIT)", async () => {
    for (const q of [
      `{ token(mint: "${WSOL}") { holders(first: 1001) { edges { node { owner } } } } }`,
      `{ account(address: "${OWNER}") { balances(first: 1001) { edges { node { mint } } } } }`,
      `{ account(address: "${OWNER}") { tokenAccounts(last: 1001) { edges { node { address } } } } }`,
    ]) {
      h.statements.reset();
      const r = await h.gql(q);
      expect(r.body.errors?.map((e) => e.extensions?.code)).toEqual(["FIRST_LIMIT"]);
      expect(h.statements.count).toBe(0);
    }
    // from a variable, its default included
    h.statements.reset();
    const v = await h.gql(
      `query($n: Int = 5000) { token(mint: "${WSOL}") { holders(first: $n) { edges { node { owner } } } } }`,
    );
    expect(v.body.errors?.map((e) => e.extensions?.code)).toEqual(["FIRST_LIMIT"]);
    expect(h.statements.count).toBe(0);
  });

  test("holders are priced by first: tokens(50) x holders(100) passes the cost limit only below it", async () => {
    // 1 + 50 x (1 token + 1 holders + 100 x 1 node) = 5,101 > 5,000
    const over = await h.gql(
      `{ tokens(first: 50) { edges { node { holders(first: 100) { edges { node { owner } } } } } } }`,
    );
    expect(over.body.errors?.map((e) => e.extensions?.code)).toEqual(["COST_LIMIT"]);
    // 1 + 50 x (1 + 1 + 97) = 4,951
    const under = await h.gql(
      `{ tokens(first: 50) { edges { node { holders(first: 97) { edges { node { owner } } } } } } }`,
    );
    expect(under.body.errors).toBeUndefined();
    // a node's token costs one more per node: 1 + 1 + 1000 x 2 = 2,002 passes; with 3 such lists, 6,006 does not
    const one = `holders(first: 1000) { edges { node { token { symbol } } } }`;
    expect((await h.gql(`{ token(mint: "${WSOL}") { ${one} } }`)).body.errors).toBeUndefined();
    const three = await h.gql(
      `{ a: token(mint: "${WSOL}") { ${one} } b: token(mint: "${USDC}") { ${one} } c: token(mint: "${WSOL}") { ${one} } }`,
    );
    expect(three.body.errors?.map((e) => e.extensions?.code)).toEqual(["COST_LIMIT"]);
  });

  test("a holders page is one statement beside the token's, in one round trip, whatever its size", async () => {
    for (const first of [5, 50, 1000]) {
      h.statements.reset();
      const r = await h.gql(HOLDERS, { mint: WSOL, first });
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data.token.holders.edges).toHaveLength(Math.min(first, holdersOf(WSOL).length));
      // the token (whose decimals and supply every node's amountUi and share reuse) and the page
      expect(h.statements.count).toBe(2);
      expect(h.statements.texts.filter((t) => /from token_holders t/.test(t))).toHaveLength(1);
      expect(h.statements.roundTrips).toBe(PLAIN ? 2 : 1);
    }
  });

  test("holders under many tokens, and an owner's lists, are one statement per list level", async () => {
    for (const n of [3, 40]) {
      h.statements.reset();
      const r = await h.gql(
        `{ tokens(first: ${n}) { edges { node { mint holderCount holders(first: 20) { edges { node { owner amountUi } } } } } } }`,
      );
      expect(r.body.errors).toBeUndefined();
      // the tokens page (pipelined: with the switch to auto plans before it), every token's holders, the tokens the
      // holders' amountUi read (the loader)
      expect(h.statements.texts.filter((t) => /from token_holders t/.test(t))).toHaveLength(1);
      expect(h.statements.count).toBe(PLAIN ? 3 : 4);
    }
    h.statements.reset();
    const r = await h.gql(
      `{ account(address: "${OWNER}") { solBalance balances(first: 100) { edges { node { amountUi token { symbol } } } }
         tokenAccounts(first: 100) { edges { node { amountUi token { decimals } } } } } }`,
    );
    expect(r.body.errors).toBeUndefined();
    // wallet, balances and token accounts together; then their tokens, once
    expect(h.statements.count).toBe(4);
    expect(h.statements.roundTrips).toBe(PLAIN ? 4 : 2);
  });
});
