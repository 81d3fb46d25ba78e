import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { DefinitionNode, DocumentNode } from "graphql";
import { expect, test } from "vitest";
import { DASHBOARD_QUERY } from "../../../api/server/example.js";
import { schema } from "../../../api/graph/index.js";
import { REPO_ROOT } from "../../setup/fixtures.js";

// The same graphql instance as the schema (it is loaded through require).
const { Kind, parse, validate } = createRequire(import.meta.url)("graphql") as typeof import("graphql");

/** Every operation of every ```graphql block in the README, each as its own document (with the block's fragments). */
function readmeOperations(): { name: string; doc: DocumentNode }[] {
  const readme = readFileSync(`${REPO_ROOT}/README.md`, "utf8");
  const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks.flatMap((src) => {
    const doc = parse(src);
    const fragments = doc.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
    return doc.definitions
      .filter(
        (d): d is DefinitionNode & { kind: typeof Kind.OPERATION_DEFINITION } => d.kind === Kind.OPERATION_DEFINITION,
      )
      .map((op) => ({
        name: op.name?.value ?? op.operation,
        doc: { kind: Kind.DOCUMENT, definitions: [op, ...fragments] } as DocumentNode,
      }));
  });
}

test("every GraphQL example in the README and the demo's dashboard query is valid against the schema", () => {
  const ops = readmeOperations();
  expect(ops.length).toBeGreaterThanOrEqual(4);
  for (const { name, doc } of [...ops, { name: "demo dashboard", doc: parse(DASHBOARD_QUERY) }]) {
    expect(
      validate(schema, doc).map((e) => e.message),
      name,
    ).toEqual([]);
  }
});
