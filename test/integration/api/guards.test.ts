/** Every guard rejects its payload with a coded error, quickly, before a single SQL statement runs. */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type ApiHarness, setupApi } from "./harness.js";

/** Depth 10 and 11: pools1 edges2 node3 swaps4 edges5 node6 pool7 tokenA8 pools9 (totalCount10 | edges10 cursor11). */
const DEPTH_10 = `{ pools(first: 5) { edges { node { swaps(first: 5) { edges { node { pool { tokenA { pools { totalCount } } } } } } } } } }`;
const DEPTH_11 = `{ pools { edges { node { swaps { edges { node { pool { tokenA { pools { edges { cursor } } } } } } } } } } }`;

describe("api guards", () => {
  let h: ApiHarness;
  let hNoIntrospection: ApiHarness;
  beforeAll(async () => {
    h = await setupApi();
    hNoIntrospection = await setupApi({ config: { API_INTROSPECTION: false }, fill: false });
    await h.gql(DEPTH_11); // warm-up: first-request compilation is not what the timing checks measure
  });
  afterAll(async () => {
    await h.close();
    await hNoIntrospection.close();
  });

  async function rejected(body: unknown, expectedCode: string, headers: Record<string, string> = {}) {
    h.statements.reset();
    const started = performance.now();
    const r = await h.api.fetch("http://test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
    const ms = performance.now() - started;
    const json = (await r.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
    expect(json.data ?? null).toBeNull();
    expect(json.errors?.map((e) => e.extensions?.code)).toContain(expectedCode);
    expect(h.statements.count).toBe(0);
    expect(ms).toBeLessThan(50);
  }

  test("depth 10 passes", async () => {
    const r = await h.gql(DEPTH_10);
    expect(r.body.errors).toBeUndefined();
  });

  test("G1: depth 11 is rejected (DEPTH_LIMIT)", () => rejected({ query: DEPTH_11 }, "DEPTH_LIMIT"));

  test("G1: a fragment reused deeper than where it was first met is still measured (graphql-armor#824)", () =>
    rejected(
      {
        query: `{ a: token(mint: "x") { ...T } pools { edges { node { swaps { edges { node { tokenIn { ...T } } } } } } } }
          fragment T on Token { pools { edges { node { tokenA { symbol } } } } }`,
      },
      "DEPTH_LIMIT",
    ));

  test("G1: a fragment named __schema does not pass as introspection (graphql-armor#823)", () =>
    rejected({ query: `{ ...__schema } fragment __schema on Query { ${DEPTH_11.slice(2, -2)} }` }, "DEPTH_LIMIT"));

  test("G1: recursive fragments are rejected", async () => {
    h.statements.reset();
    const r = await h.gql(
      `{ token(mint: "x") { ...A } } fragment A on Token { pools { edges { node { tokenA { ...A } } } } }`,
    );
    expect(r.body.errors?.length).toBeGreaterThan(0);
    expect(r.body.data ?? null).toBeNull();
    expect(h.statements.count).toBe(0);
  });

  test("G2: 31 aliases are rejected (ALIAS_LIMIT), 30 pass", async () => {
    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: __typename`).join(" ")} }`;
    expect((await h.gql(aliases(30))).body.errors).toBeUndefined();
    await rejected({ query: aliases(31) }, "ALIAS_LIMIT");
  });

  test.each([
    [
      "1,000 aliases of a list field",
      `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}:tokens{totalCount}`).join(" ")} }`,
      "DOCUMENT_TOO_LARGE",
    ],
    [
      "1,001 tokens",
      `{ ${Array.from({ length: 333 }, () => "__typename").join(" ")} tokens { totalCount } ${"__typename ".repeat(700)}}`,
      "TOKEN_LIMIT",
    ],
    ["a 16 KB document", `{ __typename } # ${"x".repeat(16 * 1024)}`, "DOCUMENT_TOO_LARGE"],
    [
      "51 directives",
      `{ ${Array.from({ length: 51 }, () => "__typename @skip(if: false)").join(" ")} }`,
      "DIRECTIVE_LIMIT",
    ],
  ])("G2: %s is rejected", (_name, query, code) => rejected({ query }, code));

  test("G2: HTTP batching is off: an array of 20 operations gets a 4xx and runs nothing", async () => {
    h.statements.reset();
    const r = await h.api.fetch("http://test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(Array.from({ length: 20 }, () => ({ query: "{ tokens { totalCount } }" }))),
    });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(h.statements.count).toBe(0);
  });

  test("G3: cost multiplies by each list's first: nested thousands are rejected (COST_LIMIT)", () =>
    rejected(
      {
        query: `{ pools(first: 1000) { edges { node { swaps(first: 1000) { edges { node { transaction { transfers { amount } } } } } } } } }`,
      },
      "COST_LIMIT",
    ));

  test("G3: the cost of aliased copies adds up", () =>
    rejected(
      {
        query: `{ ${Array.from({ length: 6 }, (_, i) => `a${i}: swaps(first: 1000) { edges { node { pool { address } } } }`).join(" ")} }`,
      },
      "COST_LIMIT",
    ));

  test("G4: first above 1,000 is rejected, as a literal or a variable (FIRST_LIMIT); 1,000 passes", async () => {
    await rejected({ query: `{ tokens(first: 1001) { edges { node { mint } } } }` }, "FIRST_LIMIT");
    await rejected(
      { query: `query($n: Int) { tokens(last: $n) { edges { node { mint } } } }`, variables: { n: 5000 } },
      "FIRST_LIMIT",
    );
    expect((await h.gql(`{ tokens(first: 1000) { edges { node { mint } } } }`)).body.errors).toBeUndefined();
  });

  test("G4: offset paging is not offered at all", async () => {
    const r = await h.gql(`{ swaps(skip: 100000) { totalCount } }`);
    expect(r.body.errors?.[0]?.message).toMatch(/Unknown argument "skip"/);
  });

  test("G7: with introspection off, __schema is rejected and misspelled fields get no suggestions", async () => {
    const intro = await hNoIntrospection.gql(`{ __schema { types { name } } }`);
    expect(intro.body.errors?.map((e) => e.extensions?.code)).toEqual(["INTROSPECTION_DISABLED"]);
    const typo = await hNoIntrospection.gql(`{ tokns { totalCount } }`);
    expect(typo.body.errors?.[0]?.message).toMatch(/Cannot query field "tokns"/);
    expect(JSON.stringify(typo.body)).not.toMatch(/Did you mean/);
    // with it on (the default) both work as usual
    expect((await h.gql(`{ __schema { queryType { name } } }`)).body.data.__schema.queryType.name).toBe("Query");
    expect(JSON.stringify((await h.gql(`{ tokns { totalCount } }`)).body)).toMatch(/Did you mean/);
  });
});
