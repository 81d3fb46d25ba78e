/**
 * The guards as a yoga plugin: document size and tokens (params), shape and introspection (validation),
 * then cost, page size and the client's rate budget (just before execution, when variables are known).
 * Every rejection is a coded GraphQL error produced before any resolver runs, so it costs no SQL.
 */
import { type GraphQLError, Lexer, Source, TokenKind, type ValidationRule } from "graphql";
import { createGraphQLError } from "graphql-yoga";
import type { Plugin } from "graphql-yoga";
import type { RequestContext } from "../context.js";
import { apiError } from "../errors.js";
import { type GuardLimits, operationCost, shapeRule } from "./guards.js";
import type { RateLimiter } from "./rate-limit.js";

/** Rejects `__schema` and `__type` (`__typename` stays allowed). */
const noIntrospection: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value === "__schema" || node.name.value === "__type")
      context.reportError(apiError("INTROSPECTION_DISABLED", "Introspection is disabled on this server."));
  },
});

/** "Did you mean ...?" leaks field names; dropped when introspection is off. */
function withoutSuggestions(e: Error): Error {
  if (!/Did you mean/.test(e.message)) return e;
  const g = e as GraphQLError;
  const message = e.message.replace(/\s*Did you mean[^?]*\?/g, "");
  return createGraphQLError(message, {
    nodes: g.nodes,
    source: g.source,
    positions: g.positions,
    path: g.path,
    extensions: g.extensions,
  });
}

/** True when the document has more than `max` tokens (comments excluded); stops reading at max + 1. */
export function tokensExceed(query: string, max: number): boolean {
  const lexer = new Lexer(new Source(query));
  try {
    for (let n = 0; n <= max; n++) if (lexer.advance().kind === TokenKind.EOF) return false;
  } catch {
    return false; // a syntax error: the parser reports it
  }
  return true;
}

/** Most query strings whose token verdict is remembered (bounded: entries are up to maxDocumentChars long). */
const TOKEN_CACHE_SIZE = 500;

/** Options of the guard plugin. */
export type GuardPluginOptions = { limits: GuardLimits; introspection: boolean; limiter: RateLimiter | null };

/** The guard plugin. */
export function useGuards(opts: GuardPluginOptions): Plugin<RequestContext> {
  const { limits } = opts;
  const rules = [shapeRule(limits), ...(opts.introspection ? [] : [noIntrospection])];
  // A dashboard repeats the same documents: lexing and costing them once each is enough. yoga's parser cache hands
  // back the same DocumentNode for the same text, so a document's cost without variables is keyed by the node.
  const tooManyTokens = new Map<string, boolean>();
  const costs = new WeakMap<object, Map<string, ReturnType<typeof operationCost>>>();
  const costOf = (
    schema: import("graphql").GraphQLSchema,
    document: import("graphql").DocumentNode,
    operationName: string | null | undefined,
    variables: Record<string, unknown>,
  ) => {
    if (Object.keys(variables).length) return operationCost(schema, document, operationName, variables, limits);
    let byName = costs.get(document);
    if (!byName) costs.set(document, (byName = new Map()));
    let c = byName.get(operationName ?? "");
    if (!c) byName.set(operationName ?? "", (c = operationCost(schema, document, operationName, variables, limits)));
    return c;
  };
  const beforeExecution = ({
    args,
    setResultAndStopExecution,
  }: {
    args: {
      schema: import("graphql").GraphQLSchema;
      document: import("graphql").DocumentNode;
      operationName?: string | null;
      variableValues?: unknown;
      contextValue: RequestContext;
    };
    setResultAndStopExecution: (r: { errors: GraphQLError[] }) => void;
  }) => {
    const variables = (args.variableValues ?? {}) as Record<string, unknown>;
    const { cost, largestPage } = costOf(args.schema, args.document, args.operationName, variables);
    let error: GraphQLError | null = null;
    if (largestPage > limits.maxFirst)
      error = apiError("FIRST_LIMIT", `first and last are limited to ${limits.maxFirst} (asked for ${largestPage}).`);
    else if (cost > limits.maxCost)
      error = apiError(
        "COST_LIMIT",
        `Query cost ${Number.isFinite(cost) ? Math.ceil(cost) : "unbounded"} exceeds the limit of ${limits.maxCost}; ask for smaller pages.`,
      );
    else if (opts.limiter) {
      const r = opts.limiter.take(args.contextValue.client, cost);
      if (!r.ok)
        error = apiError("RATE_LIMITED", `Rate limit reached; retry in ${r.retryAfterSeconds} s.`, {
          status: 429,
          headers: { "Retry-After": String(r.retryAfterSeconds) },
        });
    }
    if (error) setResultAndStopExecution({ errors: [error] });
  };
  const tokenVerdict = (query: string) => {
    let v = tooManyTokens.get(query);
    if (v === undefined) {
      v = tokensExceed(query, limits.maxTokens);
      if (tooManyTokens.size >= TOKEN_CACHE_SIZE) tooManyTokens.clear();
      tooManyTokens.set(query, v);
    }
    return v;
  };
  return {
    onParams({ params, setResult }) {
      if (typeof params.query !== "string") return;
      // setResult rather than throw, so the result still passes through onExecutionResult (metrics).
      if (params.query.length > limits.maxDocumentChars)
        setResult({
          errors: [
            apiError(
              "DOCUMENT_TOO_LARGE",
              `The document has ${params.query.length} characters; the limit is ${limits.maxDocumentChars}.`,
              { status: 413 },
            ),
          ],
        });
      else if (tokenVerdict(params.query))
        setResult({
          errors: [apiError("TOKEN_LIMIT", `The document has more than ${limits.maxTokens} tokens.`, { status: 400 })],
        });
    },
    onValidate({ addValidationRule }) {
      for (const r of rules) addValidationRule(r);
      if (opts.introspection) return;
      return ({ valid, result, setResult }) => {
        if (!valid) setResult(result.map(withoutSuggestions));
      };
    },
    onExecute: beforeExecution as never,
    onSubscribe: beforeExecution as never,
  };
}
