/** Builds the schema: imports every type file (each registers itself on the builder), then converts. */
import type { GraphQLSchema } from "graphql";
import { OWN_PROPERTY, builder } from "./builder.js";
import "./scalars.js";
import "./inputs.js";
import "./token.js";
import "./pool.js";
import "./market.js";
import "./swap.js";
import "./transfer.js";
import "./trade.js";
import "./transaction.js";
import "./program-event.js";
import "./holding.js";
import "./account.js";
import "./pnl.js";
import "./balance-change.js";
import "./slot.js";
import "./indexer-status.js";
import "./dead-letter.js";
import "./token-price.js";
import "./query.js";
import "./subscription.js";

export { readStatusHash } from "./indexer-status.js";

type Field = { resolve?: unknown; extensions?: { [OWN_PROPERTY]?: boolean; pothosResolveWrapped?: boolean } | null };

/**
 * Drops the resolvers of fields declared to return the parent's property of their own name (OWN_PROPERTY: Relay's
 * `edges`, `pageInfo` and `node`), so graphql-jit reads the property inline instead of calling a resolver with a fresh
 * info object per field and row. Values are never functions here, so the default resolver gives the same answer.
 * Resolvers a plugin wrapped (the `node` of a loadable type) are left alone.
 */
function inlinePropertyReads(s: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(s.getTypeMap())) {
    const fields = (type as { getFields?: () => Record<string, Field> }).getFields?.() ?? {};
    for (const field of Object.values(fields))
      if (field.extensions?.[OWN_PROPERTY] === true && field.extensions.pothosResolveWrapped !== true)
        field.resolve = undefined;
  }
  return s;
}

/** The GraphQL schema (no Mutation type: the API only reads). */
export const schema = inlinePropertyReads(builder.toSchema());
