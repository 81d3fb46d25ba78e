import { createRequire } from "node:module";
import type { OperationDefinitionNode } from "graphql";
import { describe, expect, test } from "vitest";
import {
  DEFAULT_LIMITS,
  LIST_ITEMS,
  aliasCount,
  fieldsOf,
  inputRule,
  namedType,
  tag,
  variablesError,
  directiveCount,
  isIntrospectionOnly,
  operationCost,
  operationDepth,
  shapeRule,
} from "../../../api/server/guards.js";
import { schema } from "../../../api/graph/index.js";

// The schema is built by Pothos, which Node loads with graphql's CommonJS build; vite would give this file the
// ESM build, a second copy that validate() refuses to mix with. Load the same copy Pothos uses.
const { Kind, getIntrospectionQuery, parse, validate } = createRequire(import.meta.url)(
  "graphql",
) as typeof import("graphql");

function analyze(query: string) {
  const doc = parse(query);
  const op = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const fragments = new Map(
    doc.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])),
  );
  return { doc, op, fragments };
}
const depth = (q: string) => {
  const a = analyze(q);
  return operationDepth(a.op, a.fragments);
};
const cost = (q: string, variables: Record<string, unknown> = {}) =>
  operationCost(schema, parse(q), undefined, variables, DEFAULT_LIMITS);
const nested = (n: number) =>
  `{ ${"pools { edges { node { swaps { edges { node { ".repeat(1)}${"transaction { ".repeat(Math.max(0, n - 7))}signature${" }".repeat(Math.max(0, n - 7))} } } } } } } }`;

describe("api guards: depth", () => {
  test("counts nested fields through connections", () => {
    expect(depth(`{ pools { edges { node { address } } } }`)).toBe(4);
    expect(depth(nested(10))).toBe(10);
    expect(depth(nested(11))).toBe(11);
  });

  test("fragments are expanded, and a fragment's depth does not depend on where it was met first (armor#824)", () => {
    const q = `{ a: token(mint: "x") { ...T } pools { edges { node { tokenA { ...T } } } } }
      fragment T on Token { pools { edges { node { swaps { edges { node { signature } } } } } } }`;
    // token(1) + T(7) = 8; pools/edges/node/tokenA (4) + T(7) = 11
    expect(depth(q)).toBe(11);
  });

  test("a fragment cycle is infinitely deep", () => {
    expect(
      depth(`{ token(mint: "x") { ...A } } fragment A on Token { pools { edges { node { tokenA { ...A } } } } }`),
    ).toBe(Infinity);
  });

  test("introspection is decided by the fields selected, not by a fragment called __schema (armor#823)", () => {
    const sneaky = analyze(`{ ...__schema } fragment __schema on Query { pools { edges { node { address } } } }`);
    expect(isIntrospectionOnly(sneaky.op, sneaky.fragments)).toBe(false);
    const real = analyze(getIntrospectionQuery());
    expect(isIntrospectionOnly(real.op, real.fragments)).toBe(true);
    expect(operationDepth(real.op, real.fragments)).toBeLessThanOrEqual(DEFAULT_LIMITS.maxIntrospectionDepth);
  });

  test("the validation rule reports DEPTH_LIMIT over the limit and passes GraphiQL's introspection query", () => {
    const rule = shapeRule(DEFAULT_LIMITS);
    const codes = (q: string) => validate(schema, parse(q), [rule]).map((e) => e.extensions.code);
    expect(codes(nested(10))).toEqual([]);
    expect(codes(nested(11))).toEqual(["DEPTH_LIMIT"]);
    expect(codes(getIntrospectionQuery())).toEqual([]);
  });
});

describe("api guards: aliases and directives", () => {
  test("aliases are counted with fragments expanded, so a fragment spread many times counts many times", () => {
    const a = analyze(
      `{ ...F ...F x: ...G } fragment F on Query { a: tokens { totalCount } b: pools { totalCount } } fragment G on Query { c: tokens { totalCount } }`.replace(
        "x: ",
        "",
      ),
    );
    expect(aliasCount(a.op, a.fragments)).toBe(5);
  });

  test("directives are counted on fields, fragments and the operation", () => {
    const a = analyze(
      `query Q @a { tokens @skip(if: false) { totalCount @include(if: true) } ...F @b } fragment F on Query { pools @c { totalCount } }`,
    );
    expect(directiveCount(a.op, a.fragments)).toBe(5);
  });

  test("the rule reports ALIAS_LIMIT and DIRECTIVE_LIMIT", () => {
    const rule = shapeRule({ ...DEFAULT_LIMITS, maxAliases: 2, maxDirectives: 2 });
    const codes = (q: string) => validate(schema, parse(q), [rule]).map((e) => e.extensions.code);
    expect(codes(`{ a: tokens { totalCount } b: tokens { totalCount } }`)).toEqual([]);
    expect(codes(`{ a: tokens { totalCount } b: tokens { totalCount } c: tokens { totalCount } }`)).toEqual([
      "ALIAS_LIMIT",
    ]);
    expect(codes(`{ tokens @skip(if: false) @include(if: true) { totalCount @skip(if: false) } }`)).toEqual([
      "DIRECTIVE_LIMIT",
    ]);
  });
});

describe("api guards: cost", () => {
  test.each([
    // [query, expected cost]: a connection is 1 + first x (cost of one edge); objects 1; scalars 0
    [`{ tokens(first: 10) { edges { node { mint } } } }`, 1 + 10 * 1],
    [`{ tokens { edges { node { mint } } } }`, 1 + 50 * 1],
    [
      `{ pools(first: 50) { edges { node { tokenA { symbol } tokenB { symbol } swaps(first: 10) { edges { node { trader amountIn tokenIn { symbol } } } } } } } }`,
      1 + 50 * (3 + 1 + 10 * 2),
    ],
    // a transaction's swaps: one per instruction at most (64), priced at 16
    [`{ transaction(signature: "x") { swaps { pool { address } } } }`, 1 + 16 * (1 + 1)],
    [
      `{ pools(first: 1000) { edges { node { swaps(first: 1000) { edges { node { transaction { swaps { signature } } } } } } } } }`,
      1 + 1000 * (2 + 1000 * (2 + 16)),
    ],
  ])("%s costs %d", (q, expected) => {
    expect(cost(q).cost).toBe(expected);
  });

  test("a realistic dashboard query is allowed and list sizes from variables count", () => {
    expect(
      cost(
        `{ pools(first: 50) { edges { node { tokenA { symbol } tokenB { symbol } swaps(first: 10) { edges { node { trader } } } } } } }`,
      ).cost,
    ).toBeLessThan(DEFAULT_LIMITS.maxCost);
    const q = `query($n: Int) { tokens(first: $n) { edges { node { mint } } } }`;
    expect(cost(q, { n: 7 })).toEqual({ cost: 8, largestPage: 7 });
    expect(cost(q, { n: 1001 }).largestPage).toBe(1001);
  });

  test("aliased copies add up, fragments included", () => {
    const one = cost(`{ tokens(first: 100) { edges { node { mint } } } }`).cost;
    expect(
      cost(
        `{ a: tokens(first: 100) { ...C } b: tokens(first: 100) { ...C } } fragment C on TokenConnection { edges { node { mint } } }`,
      ).cost,
    ).toBe(2 * one);
  });
});

describe("api guards: pricing what a query reads", () => {
  const DEFAULTS_1000 = `query($n: Int = 1000) { pools(first: $n) { edges { node { swaps(first: $n) { edges { node { trader } } } } } } }`;

  test("variable defaults are priced and page-checked as execution will coerce them", () => {
    // nothing sent: the default 1000 applies to both lists (before, both were priced as the default page of 50)
    expect(cost(DEFAULTS_1000)).toEqual({ cost: 1 + 1000 * (2 + 1000), largestPage: 1000 });
    // a value sent wins over the default; an explicit null means "no first", the default page
    expect(cost(DEFAULTS_1000, { n: 5 })).toEqual({ cost: 1 + 5 * (2 + 5), largestPage: 5 });
    expect(cost(DEFAULTS_1000, { n: null })).toEqual({ cost: 1 + 50 * (2 + 50), largestPage: 50 });
    expect(cost(`query($n: Int = 5000) { tokens(last: $n) { edges { node { mint } } } }`).largestPage).toBe(5000);
  });

  test("totalCount costs countCost per connection it counts, nested ones per parent", () => {
    expect(cost(`{ tokens { totalCount } }`).cost).toBe(1 + DEFAULT_LIMITS.countCost);
    expect(cost(`{ tokens(first: 10) { edges { node { pools { totalCount } } } } }`).cost).toBe(
      1 + 10 * (1 + 1 + DEFAULT_LIMITS.countCost),
    );
  });

  test.each([
    // [candles arguments, buckets]: 24 hours when no range is given, else the range over the interval, at most 5,000
    ["interval: M1", 1_440],
    ["interval: H1", 24],
    [`interval: D1, from: "2025-01-01T00:00:00Z", to: "2025-04-11T00:00:00Z"`, 100],
    [`interval: M1, from: "2025-01-01T00:00:00Z", to: "2025-01-01T10:00:00Z"`, 600],
    [`interval: M1, from: "2020-01-01T00:00:00Z", to: "2025-01-01T00:00:00Z"`, 5_000],
  ])("candles(%s) costs its %d buckets", (args, buckets) => {
    expect(cost(`{ pool(address: "p") { candles(${args}) { open } } }`).cost).toBe(1 + buckets);
  });

  test("candles read their range from variables too", () => {
    const q = `query($from: DateTime, $to: DateTime = "2025-01-02T00:00:00Z") { pool(address: "p") { candles(interval: M5, from: $from, to: $to) { open } } }`;
    expect(cost(q, { from: "2025-01-01T00:00:00Z" }).cost).toBe(1 + 288);
    expect(cost(q, { from: "2024-12-31T00:00:00Z" }).cost).toBe(1 + 576);
  });

  test("market stats are priced by the buckets they span, dexStats by every DEX without `dex`", () => {
    const day = `{ token(mint: "m") { stats(interval: H1, from: "2025-01-01T00:00:00Z", to: "2025-01-02T00:00:00Z") { volumeUsd } } }`;
    expect(cost(day).cost).toBe(1 + 24);
    const week = `{ pool(address: "p") { stats(interval: H1, from: "2025-01-01T00:00:00Z", to: "2025-01-08T00:00:00Z") { volumeUsd } } }`;
    expect(cost(week).cost).toBe(1 + 168);
    const one = `{ dexStats(interval: D1, dex: "raydium-amm-v4") { volumeUsd } }`;
    const all = `{ dexStats(interval: D1) { volumeUsd } }`;
    expect(cost(one).cost).toBe(30);
    expect(cost(all).cost).toBeGreaterThan(30 * 5);
  });

  test("every plain list of objects in the schema is priced by LIST_ITEMS, not the generic multiplier", () => {
    const unpriced: string[] = [];
    const names = Object.keys(LIST_ITEMS);
    for (const t of Object.values(schema.getTypeMap())) {
      if (t.name.startsWith("__") || t === schema.getSubscriptionType()) continue;
      for (const [name, f] of Object.entries(fieldsOf(t) ?? {})) {
        const inner = namedType(f.type);
        const isList = tag(f.type) === "GraphQLList" || tag((f.type as { ofType?: unknown }).ofType) === "GraphQLList";
        const leaf = tag(inner) === "GraphQLScalarType" || tag(inner) === "GraphQLEnumType";
        if (isList && !leaf && !inner.name.endsWith("Edge") && !names.includes(`${t.name}.${name}`))
          unpriced.push(`${t.name}.${name}`);
      }
    }
    expect(unpriced).toEqual([]);
    expect(names.sort()).toEqual([
      "IndexerStatus.backfills",
      "IndexerStatus.rpcEndpoints",
      "IndexerStatus.workers",
      "Pool.candles",
      "Pool.stats",
      "Query.deadLetters",
      "Query.dexStats",
      "Token.priceCandles",
      "Token.stats",
      "Token.topTraders",
      "Token.usdCandles",
      "Transaction.events",
      "Transaction.swaps",
      "Transaction.trades",
      "Transaction.transfers",
      "WalletPnl.tokens",
    ]);
  });
});

describe("api guards: list inputs and strings", () => {
  const rule = inputRule(DEFAULT_LIMITS);
  const codes = (q: string) => validate(schema, parse(q), [rule]).map((e) => e.extensions.code);
  const mints = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => `m${i}`));

  test("a list literal over maxListItems is LIST_LIMIT, at the limit it passes", () => {
    expect(codes(`{ tokens(where: { mints: ${mints(100)} }) { totalCount } }`)).toEqual([]);
    expect(codes(`{ tokens(where: { mints: ${mints(101)} }) { totalCount } }`)).toEqual(["LIST_LIMIT"]);
    // a variable's default is a literal in the document too
    expect(codes(`query($m: [String!] = ${mints(101)}) { tokens(where: { mints: $m }) { totalCount } }`)).toEqual([
      "LIST_LIMIT",
    ]);
  });

  test("a string literal with a NUL character is BAD_USER_INPUT", () => {
    expect(codes(`{ swaps(where: { trader: "a\\u0000b" }) { totalCount } }`)).toEqual(["BAD_USER_INPUT"]);
    expect(codes(`{ swaps(where: { trader: "a\\u0001b" }) { totalCount } }`)).toEqual([]);
  });

  test("variables: lists over the limit and NUL characters are found at any depth", () => {
    const many = Array.from({ length: 101 }, () => "m");
    expect(variablesError({ where: { mints: many.slice(1) } }, DEFAULT_LIMITS)).toBeNull();
    expect(variablesError({ where: { mints: many } }, DEFAULT_LIMITS)?.extensions.code).toBe("LIST_LIMIT");
    expect(variablesError({ where: { trader: "a\u0000" } }, DEFAULT_LIMITS)?.extensions.code).toBe("BAD_USER_INPUT");
    expect(variablesError({ a: [{ b: ["x", "\u0000"] }] }, DEFAULT_LIMITS)?.extensions.code).toBe("BAD_USER_INPUT");
  });

  test("variables nested 200,000 deep are walked without overflowing the stack", () => {
    let deep: unknown = "\u0000";
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(variablesError({ deep }, DEFAULT_LIMITS)?.extensions.code).toBe("BAD_USER_INPUT");
  });
});
