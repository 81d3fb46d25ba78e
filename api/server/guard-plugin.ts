/**
 * The guards as a yoga plugin: document size and tokens (params), shape and introspection (validation),
 * then cost, page size and the client's rate budget (just before execution, when variables are known).
 * Every rejection is a coded GraphQL error produced before any resolver runs, so it costs no SQL.
 */
import {
  type ExecutionResult,
  type GraphQLError,
  Lexer,
  Source,
  TokenKind,
  type ValidationRule,
  type validate,
} from "graphql";
import { createGraphQLError } from "graphql-yoga";
import type { Plugin } from "graphql-yoga";
import type { RequestContext } from "../context.js";
import { apiError } from "../errors.js";
import { type GuardLimits, inputRule, operationCost, shapeRule, variablesError } from "./guards.js";
import type { RateLimiter } from "./rate-limit.js";

/** Rejects `__schema` and `__type` (`__typename` stays allowed). */
const noIntrospection: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value === "__schema" || node.name.value === "__type")
      context.reportError(apiError("INTROSPECTION_DISABLED", "Introspection is disabled on this server."));
  },
});

const SUGGESTION = /\s*Did you mean[^?]*\?/g;

/**
 * "Did you mean ...?" leaks field, argument, type and enum value names; dropped from every error when introspection
 * is off (validation, and variables coerced at execution).
 */
function withoutSuggestions(e: Error): Error {
  if (!/Did you mean/.test(e.message)) return e;
  const g = e as GraphQLError;
  const message = e.message.replace(SUGGESTION, "");
  return createGraphQLError(message, {
    nodes: g.nodes,
    source: g.source,
    positions: g.positions,
    path: g.path,
    extensions: g.extensions,
  });
}

/** A variable's value refused by coercion (graphql-js and graphql-jit word it the same way). */
const isVariableError = (e: GraphQLError) => e.path == null && e.message.startsWith('Variable "$');

/**
 * Fixes up a single result's errors (a stream's items come from resolvers): a variable refused by coercion is the
 * client's mistake, so it gets BAD_USER_INPUT (without a code the masking would call it an internal error); and
 * with `scrub`, suggestions are dropped.
 */
function fixErrors(result: unknown, setResult: (r: ExecutionResult) => void, scrub: boolean): void {
  const r = result as ExecutionResult;
  if (r == null || typeof r !== "object" || !Array.isArray(r.errors) || r.errors.length === 0) return;
  const fix = (e: GraphQLError) => scrub && /Did you mean/.test(e.message);
  const code = (e: GraphQLError) => isVariableError(e) && e.extensions?.code == null;
  if (!r.errors.some((e) => fix(e) || code(e))) return;
  setResult({
    ...r,
    errors: r.errors.map((e) => {
      if (!fix(e) && !code(e)) return e;
      const message = scrub ? e.message.replace(SUGGESTION, "") : e.message;
      return createGraphQLError(message, {
        nodes: e.nodes,
        source: e.source,
        positions: e.positions,
        path: e.path,
        extensions: code(e) ? { ...e.extensions, code: "BAD_USER_INPUT" } : e.extensions,
      });
    }),
  });
}

/**
 * Runs `f` without capturing stack traces: a document refused by the parser or validation is the client's error, whose
 * stack nobody reads, and capturing one is a large share of a refusal's cost (every GraphQLError captures one).
 */
export function withoutStacks<T>(f: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return f();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * The rules a malformed document most often breaks (unknown fields, arguments and types), run first on their own: a
 * document they refuse is answered with their errors alone, without the thirty other rules' visits (most of a
 * refusal's cost). A document they pass gets the full validation, as before. Only for a client refused in the last
 * SUSPECT_MS: for others the first check would be a cost without a refusal to save.
 * @dev picked by name from the rules validation is given, not imported: those belong to the schema's copy of graphql
 * (an imported rule could come from another build, whose type checks refuse the schema's types).
 */
const FIRST_RULES = new Set(["FieldsOnCorrectTypeRule", "KnownArgumentNamesRule", "KnownTypeNamesRule"]);

/** How long a refused client's new documents get the first rules' check first, and how many clients are remembered. */
const SUSPECT_MS = 60_000;
const MAX_SUSPECTS = 10_000;

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
export type GuardPluginOptions = {
  limits: GuardLimits;
  introspection: boolean;
  limiter: RateLimiter | null;
  /** who sent a request (as the rate limiter counts clients), before its GraphQL context exists */
  clientOf?: (request: Request | undefined) => string | undefined;
};

/** The guard plugin. */
export function useGuards(opts: GuardPluginOptions): Plugin<RequestContext> {
  const { limits } = opts;
  const rules = [shapeRule(limits), inputRule(limits), ...(opts.introspection ? [] : [noIntrospection])];
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
  const scrub = !opts.introspection;
  /**
   * A refused request (too large, malformed, invalid, over a limit) costs its client the minimum request cost: it
   * is cheap to refuse, but not free, so a client cannot send them without end at no charge to its budget.
   */
  /**
   * Clients refused recently: their new documents get the first rules' check before the full validation. A client
   * that is never refused does not pay for it (a third more validation time on a valid document never seen before).
   */
  const suspects = new Map<string, number>();
  const charge = (client: string | undefined) => {
    if (!client) return;
    if (opts.limiter) opts.limiter.take(client, 0);
    if (suspects.size >= MAX_SUSPECTS && !suspects.has(client)) suspects.clear();
    suspects.set(client, performance.now());
  };
  const suspect = (client: string | undefined) => {
    const since = client === undefined ? undefined : suspects.get(client);
    return since !== undefined && performance.now() - since < SUSPECT_MS;
  };
  const afterExecution = ({ result, setResult }: { result: unknown; setResult: (r: ExecutionResult) => void }) =>
    fixErrors(result, setResult, scrub);
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
    // Variables are coerced inside execute and subscribe: their errors are fixed up as the result comes back.
    const done = afterExecution;
    const variables = (args.variableValues ?? {}) as Record<string, unknown>;
    let error: GraphQLError | null = variablesError(variables, limits);
    if (error) {
      charge(args.contextValue.client);
      setResultAndStopExecution({ errors: [error] });
      return { onExecuteDone: done, onSubscribeResult: done };
    }
    const { cost, largestPage } = costOf(args.schema, args.document, args.operationName, variables);
    if (largestPage > limits.maxFirst)
      error = apiError("FIRST_LIMIT", `first and last are limited to ${limits.maxFirst} (asked for ${largestPage}).`);
    else if (cost > limits.maxCost)
      error = apiError(
        "COST_LIMIT",
        `Query cost ${Number.isFinite(cost) ? Math.ceil(cost) : "unbounded"} exceeds the limit of ${limits.maxCost}; ask for smaller pages.`,
      );
    if (error) charge(args.contextValue.client);
    else if (opts.limiter) {
      const r = opts.limiter.take(args.contextValue.client, cost);
      if (!r.ok)
        error = apiError("RATE_LIMITED", `Rate limit reached; retry in ${r.retryAfterSeconds} s.`, {
          status: 429,
          headers: { "Retry-After": String(r.retryAfterSeconds) },
        });
    }
    if (error) setResultAndStopExecution({ errors: [error] });
    return { onExecuteDone: done, onSubscribeResult: done };
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
    onParams({ params, setResult, request }) {
      if (typeof params.query !== "string") return;
      const tooLong = params.query.length > limits.maxDocumentChars;
      if (tooLong || tokenVerdict(params.query)) charge(opts.clientOf?.(request));
      // setResult rather than throw, so the result still passes through onExecutionResult (metrics).
      if (tooLong)
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
    // A syntax error never reaches validation (yoga's parser cache rethrows a known one before any onParse hook):
    // it is charged where its answer is sent.
    onResultProcess({ request, result }) {
      const r = result as { data?: unknown; errors?: readonly { extensions?: { code?: unknown } }[] } | null;
      if (r?.errors?.some((e) => e.extensions?.code === "GRAPHQL_PARSE_FAILED")) charge(opts.clientOf?.(request));
      // A refusal (errors, no data): yoga's writer copies each error into a new GraphQLError, each capturing a stack.
      // The writer runs right after these hooks, in this same turn, and the limit is back before anything else runs.
      if (r?.errors?.length && r.data == null && !(Symbol.asyncIterator in r)) {
        const limit = Error.stackTraceLimit;
        Error.stackTraceLimit = 0;
        queueMicrotask(() => {
          Error.stackTraceLimit = limit;
        });
      }
    },
    onParse({ parseFn, setParseFn }) {
      setParseFn((source, options) => withoutStacks(() => parseFn(source, options)));
    },
    onValidate({ addValidationRule, validateFn, setValidationFn, context }) {
      for (const r of rules) addValidationRule(r);
      // Runs only on a document yoga's validation cache has not seen (a hit skips the validation function).
      const client = opts.clientOf?.((context as { request?: Request }).request);
      setValidationFn(((schema, document, all, ...rest) =>
        withoutStacks(() => {
          if (!all || !suspect(client)) return validateFn(schema, document, all, ...rest);
          const first = validateFn(
            schema,
            document,
            all.filter((r) => FIRST_RULES.has(r.name) || rules.includes(r)),
            ...rest,
          );
          return first.length ? first : validateFn(schema, document, all, ...rest);
        })) as typeof validate);
      return ({ valid, result, setResult }) => {
        if (valid) return;
        charge(client);
        if (scrub) setResult(withoutStacks(() => result.map(withoutSuggestions)));
      };
    },
    onExecute: beforeExecution as never,
    onSubscribe: beforeExecution as never,
  };
}
