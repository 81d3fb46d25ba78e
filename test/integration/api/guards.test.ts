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

  test("G3: variable defaults are priced and page-checked: `$n: Int = 1000` is not the default page", async () => {
    await rejected(
      {
        query: `query($n: Int = 1000) { pools(first: $n) { edges { node { swaps(first: $n) { edges { node { trader } } } } } } }`,
      },
      "COST_LIMIT",
    );
    await rejected({ query: `query($n: Int = 5000) { tokens(first: $n) { edges { node { mint } } } }` }, "FIRST_LIMIT");
    // the same document with a small value sent runs
    const ok = await h.gql(
      `query($n: Int = 1000) { pools(first: $n) { edges { node { swaps(first: $n) { edges { node { trader } } } } } } }`,
      { n: 2 },
    );
    expect(ok.body.errors).toBeUndefined();
  });

  test("G3: totalCount and plain lists are priced by what they read", async () => {
    // 50 nested counts at 100 each, and 50 pools' minute candles over a day (1,440 buckets each)
    await rejected({ query: `{ pools { edges { node { swaps { totalCount } } } } }` }, "COST_LIMIT");
    await rejected(
      { query: `{ pools(first: 5) { edges { node { candles(interval: M1) { open } } } } }` },
      "COST_LIMIT",
    );
    await rejected(
      {
        query: `{ swaps(first: 100) { edges { node { transaction { transfers { amount } events { name } } } } } }`,
      },
      "COST_LIMIT",
    );
  });

  test("G5: list inputs over 100 items are refused (LIST_LIMIT), as literals or variables", async () => {
    const mints = Array.from({ length: 101 }, (_, i) => `mint${i}`);
    await rejected({ query: `{ tokens(where: { mints: ${JSON.stringify(mints)} }) { totalCount } }` }, "LIST_LIMIT");
    await rejected(
      {
        query: `query($a: [String!]) { pools(where: { addresses: $a }) { edges { node { address } } } }`,
        variables: { a: mints },
      },
      "LIST_LIMIT",
    );
    const ok = await h.gql(`query($m: [String!]) { tokens(where: { mints: $m }) { totalCount } }`, {
      m: mints.slice(0, 100),
    });
    expect(ok.body.errors).toBeUndefined();
  });

  test.each([
    [
      "a NUL in a string filter (variable)",
      `query($t: String) { swaps(where: { trader: $t }) { totalCount } }`,
      { t: "a\u0000b" },
    ],
    ["a NUL in a string filter (literal)", `{ transfers(where: { mint: "a\\u0000" }) { totalCount } }`, undefined],
    [
      "a DateTime without an offset",
      `query($t: DateTime) { swaps(where: { blockTime: { gte: $t } }) { totalCount } }`,
      { t: "2025-04-09T04:54:22" },
    ],
    [
      "a DateTime literal without an offset",
      `{ swaps(where: { blockTime: { gte: "2025-04-09T04:54:22" } }) { totalCount } }`,
      undefined,
    ],
    [
      "a DateTime beyond Postgres' range",
      `query($t: DateTime) { swaps(where: { blockTime: { lte: $t } }) { totalCount } }`,
      { t: "+275760-09-13T00:00:00Z" },
    ],
    [
      "a DateTime before Postgres' range",
      `query($t: DateTime) { transfers(where: { blockTime: { gte: $t } }) { totalCount } }`,
      { t: "-271821-04-20T00:00:00Z" },
    ],
  ])("G6: %s is BAD_USER_INPUT, not an internal error", async (_name, query, variables) => {
    // twice: the second run is compiled by graphql-jit, whose variable coercion is its own
    await rejected({ query, variables }, "BAD_USER_INPUT");
    await rejected({ query, variables }, "BAD_USER_INPUT");
  });

  test("G6: a variable that coercion refuses is BAD_USER_INPUT, not a masked internal error", async () => {
    for (let run = 0; run < 2; run++) {
      await rejected(
        { query: `query($n: Int) { tokens(first: $n) { totalCount } }`, variables: { n: "x" } },
        "BAD_USER_INPUT",
      );
      await rejected(
        {
          query: `query($i: CandleInterval!) { pool(address: "x") { candles(interval: $i) { open } } }`,
          variables: { i: "M2" },
        },
        "BAD_USER_INPUT",
      );
    }
  });

  test("G6: DateTimes with an offset still filter", async () => {
    const r = await h.gql(`query($t: DateTime) { swaps(where: { blockTime: { gte: $t } }) { totalCount } }`, {
      t: "2020-01-01T00:00:00+02:00",
    });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.swaps.totalCount).toBeGreaterThan(0);
  });

  test.each([
    ["an unknown field", `{ tokns { totalCount } }`, undefined],
    [
      "an unknown field on an abstract position (type suggestion)",
      `{ pool(address: "x") { ... on Tokn { mint } } }`,
      undefined,
    ],
    ["an unknown argument", `{ tokens(frist: 1) { totalCount } }`, undefined],
    ["an unknown type in a variable", `query($w: TokenWher) { tokens(where: $w) { totalCount } }`, undefined],
    ["an unknown enum value (literal)", `{ pool(address: "x") { candles(interval: M2) { open } } }`, undefined],
    ["an unknown input field (literal)", `{ tokens(where: { mint: ["x"] }) { totalCount } }`, undefined],
    [
      "an unknown enum value (variable)",
      `query($iv: CandleInterval!) { pool(address: "x") { candles(interval: $iv) { open } } }`,
      { iv: "M2" },
    ],
    [
      "an unknown input field (variable)",
      `query($w: TokenWhere) { tokens(where: $w) { totalCount } }`,
      { w: { mint: ["x"] } },
    ],
    ["an unknown directive argument", `{ tokens @skip(iff: true) { totalCount } }`, undefined],
  ])("G7: with introspection off, %s gets no suggestion", async (_name, query, variables) => {
    // with introspection on the same error suggests a name: the case is one that leaks
    const on = await h.gql(query, variables);
    expect(JSON.stringify(on.body.errors)).toMatch(/Did you mean/);
    for (let run = 0; run < 2; run++) {
      const off = await hNoIntrospection.gql(query, variables);
      expect(off.body.errors?.length).toBeGreaterThan(0);
      expect(JSON.stringify(off.body)).not.toMatch(/Did you mean/);
    }
  });
});

describe("api refusals", () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await setupApi({ api: { trustProxy: true }, fill: false });
  });
  afterAll(async () => {
    await h.close();
  });
  const send = async (query: string, client: string) =>
    (await (
      await h.api.fetch("http://test/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": client },
        body: JSON.stringify({ query }),
      })
    ).json()) as { errors?: { message: string; extensions?: { code?: string } }[] };

  test("a client refused recently gets an invalid document's unknown-field errors alone; any other client the full validation", async () => {
    // an unknown field (first rules) and an unused variable (the full validation)
    const doc = (n: number) => `query($unused: Int) { pool(address: "x") { notAField } } # ${n}`;
    const fresh = await send(doc(1), "198.51.100.1");
    expect(fresh.errors?.map((e) => e.message).sort()).toEqual([
      'Cannot query field "notAField" on type "Pool".',
      'Variable "$unused" is never used.',
    ]);
    expect((await send("{ nope }", "198.51.100.2")).errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    const refused = await send(doc(2), "198.51.100.2");
    expect(refused.errors?.map((e) => e.message)).toEqual(['Cannot query field "notAField" on type "Pool".']);
    expect(refused.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    // a valid document from the refused client still runs
    expect((await send("{ indexerStatus { __typename } } # 3", "198.51.100.2")).errors).toBeUndefined();
  });
});
