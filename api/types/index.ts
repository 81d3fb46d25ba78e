/** Builds the schema: imports every type file (each registers itself on the builder), then converts. */
import { builder } from "../builder.js";
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

/** The GraphQL schema (no Mutation type: the API only reads). */
export const schema = builder.toSchema();
