/** The Pothos SchemaBuilder: Relay connections and per-request DataLoaders; types live in ./types, one per file. */
import SchemaBuilder from "@pothos/core";
import DataloaderPlugin from "@pothos/plugin-dataloader";
import RelayPlugin from "@pothos/plugin-relay";
import type { RequestContext } from "../server/context.js";

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
    edgesFieldOptions: { nullable: false },
    nodeFieldOptions: { nullable: false },
  },
});

/** `totalCount` on every connection: counted only when asked for (one statement per list level). */
builder.globalConnectionField("totalCount", (t) =>
  t.int({
    description: "Rows matching the filter (an extra COUNT query; ask only when needed).",
    resolve: (parent) => parent.totalCount(),
  }),
);
