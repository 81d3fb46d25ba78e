import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import type { DefinitionNode, DocumentNode } from "graphql";
import { expect, test } from "vitest";
import { DASHBOARD_QUERY } from "../../../api/server/example.js";
import { schema } from "../../../api/graph/index.js";
import { REPO_ROOT } from "../../setup/fixtures.js";

// The same graphql instance as the schema (it is loaded through require).
const { Kind, parse, validate } = createRequire(import.meta.url)("graphql") as typeof import("graphql");

/** Each operation of each ```graphql block in a markdown file, as its own document with the block's fragments. */
function markdownOperations(file: string): { name: string; doc: DocumentNode }[] {
  const text = readFileSync(path.join(REPO_ROOT, file), "utf8");
  const blocks = [...text.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks.flatMap((src) => {
    const doc = parse(src);
    const fragments = doc.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
    return doc.definitions
      .filter(
        (d): d is DefinitionNode & { kind: typeof Kind.OPERATION_DEFINITION } => d.kind === Kind.OPERATION_DEFINITION,
      )
      .map((op) => ({
        name: `${file}: ${op.name?.value ?? op.operation}`,
        doc: { kind: Kind.DOCUMENT, definitions: [op, ...fragments] } as DocumentNode,
      }));
  });
}

/** README.md and every markdown file under docs/. */
const DOCS = [
  "README.md",
  ...readdirSync(path.join(REPO_ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

test("the README shows a query and docs/graphql.md its examples, queries and a subscription", () => {
  expect(markdownOperations("README.md").length).toBeGreaterThanOrEqual(1);
  const guide = markdownOperations("docs/graphql.md").map(({ doc }) => doc.definitions[0]);
  expect(guide.length).toBeGreaterThanOrEqual(4);
  expect(guide.some((d) => d?.kind === Kind.OPERATION_DEFINITION && d.operation === "subscription")).toBe(true);
});

test("every GraphQL example in README.md and docs/, and the demo dashboard query, is valid against the schema", () => {
  const ops = DOCS.flatMap(markdownOperations);
  for (const { name, doc } of [...ops, { name: "demo dashboard", doc: parse(DASHBOARD_QUERY) }]) {
    expect(
      validate(schema, doc).map((e) => e.message),
      name,
    ).toEqual([]);
  }
});
