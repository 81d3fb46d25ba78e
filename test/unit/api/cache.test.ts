import { createRequire } from "node:module";
import { describe, expect, test } from "vitest";
import { immutableShape } from "../../../api/server/cache-plugin.js";
import { schema } from "../../../api/graph/index.js";

const { parse } = createRequire(import.meta.url)("graphql") as typeof import("graphql");
const shape = (q: string) => immutableShape(schema, parse(q));

describe("api caching: which operations read only immutable rows", () => {
  test.each([
    [
      `{ transaction(signature: "x") { signature fee swaps { amountIn amountInUi dex } transfers { amount } events { data } } }`,
      true,
    ],
    [`{ transaction(signature: "x") { ...T } } fragment T on Transaction { swaps { transaction { slot } } }`, true],
    [`{ transaction(signature: "x") { swaps { pool { reserveA } } } }`, false],
    [`{ transaction(signature: "x") { transfers { token { symbol } } } }`, false],
    [`{ transaction(signature: "x") { slot } indexerStatus { latestSlot } }`, false],
    [`{ swaps(first: 1) { totalCount } }`, false],
    [`subscription { slots { slot } }`, false],
  ])("%s -> %s", (q, expected) => {
    expect(shape(q)).toBe(expected);
  });
});
