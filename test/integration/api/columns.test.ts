/**
 * Pages select only the columns their query's node fields read (api/sql/page.ts selectFor): every field of every pruned
 * list, asked for alone, answers what it answers beside every other field, at the top level and nested (loaders,
 * prefetches); and the statements carry only the columns asked for.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { schema } from "../../../api/graph/index.js";
import { type ApiHarness, setupApi } from "./harness.js";

type Named = {
  name: string;
  ofType?: Named;
  getFields?: () => Record<string, { type: Named; args: readonly { name: string }[] }>;
};

const named = (t: Named): Named => (t.ofType ? named(t.ofType) : t);

/** Arguments a field needs before it can be selected. */
const ARGS: Record<string, string> = {
  volume: "(window: D7)",
  candles: "(interval: D1)",
  priceCandles: "(interval: D1)",
  stats: "(interval: D1)",
  usdCandles: "(interval: D1)",
};

/**
 * A selection of field `name` of `type`: the field itself, or with the first leaf of its object type (a connection: its
 * edges' cursors).
 */
function selection(typeName: string, name: string): string {
  const type = schema.getType(typeName) as unknown as Named;
  const f = type.getFields!()[name]!;
  const inner = named(f.type);
  const args = ARGS[name] ?? (f.args.some((a) => a.name === "first") ? "(first: 2)" : "");
  if (!inner.getFields) return `${name}${args}`;
  if (inner.name.endsWith("Connection")) return `${name}${args} { edges { cursor } }`;
  const leaf = Object.entries(inner.getFields()).find(([, g]) => !named(g.type).getFields && g.args.length === 0);
  return `${name}${args} { ${leaf![0]} }`;
}

const fieldsOf = (typeName: string) => Object.keys((schema.getType(typeName) as unknown as Named).getFields!());

describe("api column pruning", () => {
  let h: ApiHarness;
  let lists: { name: string; type: string; query: (node: string) => string; edges: (data: any) => any[] }[];
  beforeAll(async () => {
    h = await setupApi();
    const one = async (q: string) => Object.values((await h.sql.query(q)).rows[0] as object)[0] as string;
    const mint = await one(`select mint from token_transfers group by mint order by count(*) desc limit 1`);
    const poolMint = await one(`select mint_a from pools group by mint_a order by count(*) desc limit 1`);
    const pool = await one(`select pool from swaps group by pool order by count(*) desc limit 1`);
    const wallet = await one(`select trader from swaps group by trader order by count(*) desc limit 1`);
    const owner = await one(
      `select source_owner from token_transfers where source_owner is not null group by 1 order by count(*) desc limit 1`,
    );
    const list = (name: string, type: string, wrap: (inner: string) => string, edges: (d: any) => any[]) => ({
      name,
      type,
      query: (node: string) => wrap(`edges { node { ${node} } }`),
      edges,
    });
    lists = [
      list(
        "tokens",
        "Token",
        (s) => `{ tokens(first: 5) { ${s} } }`,
        (d) => d.tokens.edges,
      ),
      list(
        "pools",
        "Pool",
        (s) => `{ pools(first: 5) { ${s} } }`,
        (d) => d.pools.edges,
      ),
      list(
        "swaps",
        "Swap",
        (s) => `{ swaps(first: 5) { ${s} } }`,
        (d) => d.swaps.edges,
      ),
      list(
        "transfers",
        "Transfer",
        (s) => `{ transfers(first: 5) { ${s} } }`,
        (d) => d.transfers.edges,
      ),
      list(
        "token.pools",
        "Pool",
        (s) => `{ token(mint: "${poolMint}") { pools(first: 3) { ${s} } } }`,
        (d) => d.token.pools.edges,
      ),
      list(
        "token.transfers",
        "Transfer",
        (s) => `{ token(mint: "${mint}") { transfers(first: 5) { ${s} } } }`,
        (d) => d.token.transfers.edges,
      ),
      list(
        "tokens.transfers",
        "Transfer",
        (s) => `{ tokens(first: 3) { edges { node { transfers(first: 2) { ${s} } } } } }`,
        (d) => d.tokens.edges.flatMap((e: any) => e.node.transfers.edges),
      ),
      list(
        "pool.swaps",
        "Swap",
        (s) => `{ pool(address: "${pool}") { swaps(first: 5) { ${s} } } }`,
        (d) => d.pool.swaps.edges,
      ),
      list(
        "pools.swaps",
        "Swap",
        (s) => `{ pools(first: 3) { edges { node { swaps(first: 2) { ${s} } } } } }`,
        (d) => d.pools.edges.flatMap((e: any) => e.node.swaps.edges),
      ),
      list(
        "account.swaps",
        "Swap",
        (s) => `{ account(address: "${wallet}") { swaps(first: 5) { ${s} } } }`,
        (d) => d.account.swaps.edges,
      ),
      list(
        "account.transfers",
        "Transfer",
        (s) => `{ account(address: "${owner}") { transfers(first: 5) { ${s} } } }`,
        (d) => d.account.transfers.edges,
      ),
    ];
  });
  afterAll(() => h.close());

  test("every field of every pruned list, asked for alone, answers what it answers beside all the others", async () => {
    let compared = 0;
    for (const l of lists) {
      const fields = fieldsOf(l.type);
      const all = await h.gql(l.query(fields.map((f) => selection(l.type, f)).join(" ")));
      expect(all.body.errors, l.name).toBeUndefined();
      const full = l.edges(all.body.data).map((e) => e.node);
      expect(full.length, l.name).toBeGreaterThan(0);
      for (const f of fields) {
        const alone = await h.gql(l.query(selection(l.type, f)));
        expect(alone.body.errors, `${l.name}.${f}`).toBeUndefined();
        const got = l.edges(alone.body.data).map((e) => e.node[f]);
        expect(got, `${l.name}.${f}`).toEqual(full.map((n) => n[f]));
        compared += got.length;
      }
    }
    expect(compared).toBeGreaterThan(500);
  });

  test("a page's statement carries only the columns its node fields read, also through fragments", async () => {
    const pageStatement = () => h.statements.texts.find((t) => /from token_transfers t\b/.test(t))!;
    h.statements.reset();
    const plain = await h.gql(`{ transfers(first: 3) { edges { node { amount } } } }`);
    expect(plain.body.errors).toBeUndefined();
    expect(pageStatement()).toMatch(/t\.amount\b/);
    // the ordering's keys, for the cursors; nothing else
    for (const col of ["t.slot", "t.tx_index", "t.instruction_path"]) expect(pageStatement()).toContain(col);
    for (const col of ["t.source_owner", "t.destination", "t.fee", "t.block_time", "t.mint"])
      expect(pageStatement()).not.toContain(col);

    h.statements.reset();
    const fragments = await h.gql(
      `{ transfers(first: 3) { ...Page } } fragment Page on TransferConnection { edges { node { ... on Transfer { amountUi } } } }`,
    );
    expect(fragments.body.errors).toBeUndefined();
    expect(pageStatement()).toMatch(/t\.mint\b/);
    expect(pageStatement()).not.toContain("t.source_owner");
    expect(fragments.body.data.transfers.edges.map((e: any) => e.node.amountUi)).toEqual(
      (
        await h.gql(`{ transfers(first: 3) { edges { node { amountUi source sourceOwner } } } }`)
      ).body.data.transfers.edges.map((e: any) => e.node.amountUi),
    );
  });
});
