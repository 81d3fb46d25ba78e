/** Keyset pagination: each row visited once, forwards and backwards, while the indexer stores more blocks. */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createStore } from "../../../indexer/store/index.js";
import { type ApiHarness, setupApi } from "./harness.js";

const PAGE = `query($first: Int, $after: String, $last: Int, $before: String, $dir: OrderDirection!) {
  swaps(first: $first, after: $after, last: $last, before: $before, orderBy: { field: SLOT, direction: $dir }) {
    edges { cursor node { signature instructionPath } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;

describe("api pagination", () => {
  let h: ApiHarness;
  let store: ReturnType<typeof createStore>;
  let older: number;
  let newer: number;
  const key = (e: any) => `${e.node.signature}/${e.node.instructionPath}`;
  const sqlKeys = async (order: "asc" | "desc") =>
    (
      await h.sql.query(
        `select signature || '/' || instruction_path k from swaps order by slot ${order}, tx_index ${order}, instruction_path ${order}`,
      )
    ).rows.map((r) => r.k as string);
  const page = async (vars: Record<string, unknown>) => {
    const r = await h.gql(PAGE, vars);
    expect(r.body.errors).toBeUndefined();
    return r.body.data.swaps;
  };

  beforeAll(async () => {
    h = await setupApi({ fill: false });
    store = createStore({ db: h.writer });
    [older, newer] = h.blocks.map((b) => b.slot) as [number, number];
  });
  afterAll(() => h.close());
  const write = (slot: number) =>
    store.writeBlocks(
      h.blocks.filter((b) => b.slot === slot),
      { commitment: "confirmed" },
    );

  test("forward, newest first: a block stored behind the cursor is neither repeated nor shifts the pages", async () => {
    await write(older);
    const before = await sqlKeys("desc");
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; ; i++) {
      const p: any = await page({ first: 10, after, dir: "DESC" });
      seen.push(...p.edges.map(key));
      expect(p.pageInfo.hasPreviousPage).toBe(after !== null);
      if (i === 0) await write(newer); // newer rows land before the cursor
      if (!p.pageInfo.hasNextPage) break;
      after = p.pageInfo.endCursor;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(before);
  });

  test("forward, oldest first: a block stored ahead of the cursor is visited, every row once", async () => {
    await store.rollbackSlots([newer]);
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; ; i++) {
      const p: any = await page({ first: 10, after, dir: "ASC" });
      seen.push(...p.edges.map(key));
      if (i === 0) await write(newer);
      if (!p.pageInfo.hasNextPage) break;
      after = p.pageInfo.endCursor;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(await sqlKeys("asc"));
  });

  test("backward with last/before: every row once, including a block stored ahead, in order", async () => {
    await store.rollbackSlots([newer]);
    const pages: string[][] = [];
    let before: string | null = null;
    for (let i = 0; ; i++) {
      // newest-first order walked from its end: oldest rows first, moving towards the newest
      const p: any = await page({ last: 10, before, dir: "DESC" });
      pages.push(p.edges.map(key));
      expect(p.pageInfo.hasNextPage).toBe(before !== null);
      if (i === 0) await write(newer);
      if (!p.pageInfo.hasPreviousPage) break;
      before = p.pageInfo.startCursor;
    }
    const seen = pages.reverse().flat();
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(await sqlKeys("desc"));
  });

  test("a page and the pages on either side of it meet exactly: after(endCursor) and before(startCursor)", async () => {
    const all = await sqlKeys("desc");
    const mid: any = await page({
      first: 10,
      after: (await page({ first: 30, dir: "DESC" })).pageInfo.endCursor,
      dir: "DESC",
    });
    expect(mid.edges.map(key)).toEqual(all.slice(30, 40));
    const prev: any = await page({ last: 5, before: mid.pageInfo.startCursor, dir: "DESC" });
    expect(prev.edges.map(key)).toEqual(all.slice(25, 30));
    const between: any = await page({
      first: 100,
      after: prev.pageInfo.endCursor,
      before: mid.pageInfo.endCursor,
      dir: "DESC",
    });
    expect(between.edges.map(key)).toEqual(all.slice(30, 39));
  });

  test("cursors are opaque and checked: garbage, another ordering's cursor, both first and last", async () => {
    const codes = async (q: string, v: Record<string, unknown> = {}) =>
      (await h.gql(q, v)).body.errors?.map((e) => e.extensions?.code);
    expect(await codes(PAGE, { first: 1, after: "not-a-cursor!", dir: "DESC" })).toEqual(["BAD_CURSOR"]);
    expect(
      await codes(PAGE, { first: 1, after: Buffer.from('[1,"slot","x",1,"2"]').toString("base64url"), dir: "DESC" }),
    ).toEqual(["BAD_CURSOR"]);
    const poolCursor = (await h.gql(`{ pools(first: 1) { pageInfo { endCursor } } }`)).body.data.pools.pageInfo
      .endCursor;
    expect(await codes(PAGE, { first: 1, after: poolCursor, dir: "DESC" })).toEqual(["BAD_CURSOR"]);
    expect(await codes(PAGE, { first: 1, last: 1, dir: "DESC" })).toEqual(["BAD_USER_INPUT"]);
  });

  test("no OFFSET in any statement the API runs", async () => {
    h.statements.reset();
    await page({ first: 10, after: (await page({ first: 50, dir: "DESC" })).pageInfo.endCursor, dir: "DESC" });
    expect(h.statements.texts.length).toBeGreaterThan(0);
    expect(h.statements.texts.some((t) => /\boffset\b/i.test(t))).toBe(false);
  });
});
