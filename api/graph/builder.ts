/** The Pothos SchemaBuilder: Relay connections and per-request DataLoaders; one file per GraphQL type beside it. */
import SchemaBuilder from "@pothos/core";
import DataloaderPlugin from "@pothos/plugin-dataloader";
import RelayPlugin from "@pothos/plugin-relay";
import type { RequestContext } from "../context.js";

/**
 * The field extension of a field whose resolver only returns the parent's property of the field's own name: index.ts
 * drops such resolvers, so graphql-jit reads the property inline. Relay's `pageInfo`, `edges` and `node` are such
 * fields (the plugin resolves them as `(parent) => parent.edges` and so on); our own use `t.expose*`, which Pothos
 * builds without a resolver.
 */
export const OWN_PROPERTY = "slotlineOwnProperty";

const ownProperty = { [OWN_PROPERTY]: true };

/** The schema builder every type file adds to. */
export const builder = new SchemaBuilder<{
  Context: RequestContext;
  Scalars: {
    BigInt: { Input: string; Output: string | bigint };
    DateTime: { Input: Date; Output: Date | string };
    JSON: { Input: unknown; Output: unknown };
  };
  Connection: { totalCount: () => Promise<number> };
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
  DefaultFieldNullability: false;
}>({
  plugins: [RelayPlugin, DataloaderPlugin],
  defaultFieldNullability: false,
  relay: {
    clientMutationId: "omit",
    cursorType: "String",
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    edgesFieldOptions: { nullable: false, extensions: ownProperty },
    nodeFieldOptions: { nullable: false, extensions: ownProperty },
    pageInfoFieldOptions: { extensions: ownProperty },
  },
});

/** `totalCount` on every connection: counted only when asked for (one statement per list level). */
builder.globalConnectionField("totalCount", (t) =>
  t.int({
    description: "Rows matching the filter (an extra COUNT query; ask only when needed).",
    resolve: (parent) => parent.totalCount(),
  }),
);
