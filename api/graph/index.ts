/** Builds the schema: imports every type file (each registers itself on the builder), then converts. */
import type { GraphQLObjectType, GraphQLSchema } from "graphql";
import { builder } from "./builder.js";
import { tag } from "../server/guards.js";
import "./scalars.js";
import "./inputs.js";
import "./token.js";
import "./pool.js";
import "./swap.js";
import "./transfer.js";
import "./transaction.js";
import "./program-event.js";
import "./account.js";
import "./slot.js";
import "./indexer-status.js";
import "./query.js";
import "./subscription.js";

/** `(x) => x.name` as source text (with or without parentheses and spaces), capturing `name`. */
const PROPERTY_READ = /^\(?\s*([\w$]+)\s*\)?\s*=>\s*\1\.([\w$]+)\s*$/;

/**
 * Drops resolvers that only read the parent's property of the field's own name (Relay's `edges`, `pageInfo` and
 * `node`, and plain `resolve: (s) => s.blockTime` fields), so graphql-jit reads the property inline instead of
 * calling a resolver with a fresh info object per field and row. Values are never functions here, so the default
 * resolver gives the same answer. Resolvers a plugin wrapped (loadable types) are left alone.
 */
function inlinePropertyReads(s: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(s.getTypeMap())) {
    // By tag, not isObjectType: the schema may come from another copy of graphql (see guards.ts).
    if (type.name.startsWith("__") || tag(type) !== "GraphQLObjectType") continue;
    for (const field of Object.values((type as GraphQLObjectType).getFields())) {
      const m = field.resolve ? PROPERTY_READ.exec(field.resolve.toString()) : null;
      if (m && m[2] === field.name) field.resolve = undefined;
    }
  }
  return s;
}

/** The GraphQL schema (no Mutation type: the API only reads). */
export const schema = inlinePropertyReads(builder.toSchema());
