/**
 * Query guards, pure functions over the parsed document: depth, aliases and directives (validation time, cached
 * with the document) and cost and page size (execution time, since `first` may come from variables). All run
 * before any resolver, so an abusive query costs no SQL.
 * @dev fragments are expanded, with each fragment's result memoized by name (relative to its own root, so
 * the memo cannot be poisoned by where it was first met, unlike graphql-armor#824), and a fragment cycle
 * counts as infinite. Whether an operation is introspection is decided by the fields it selects, never by
 * a fragment's name (graphql-armor#823).
 */
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationRule,
  valueFromASTUntyped,
} from "graphql";
import { createGraphQLError } from "graphql-yoga";
import { apiError } from "../errors.js";
import { PRESETS } from "../../core/presets.js";

/** The limits, with the defaults createApi uses. */
export type GuardLimits = {
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  maxTokens: number;
  maxDocumentChars: number;
  maxCost: number;
  maxFirst: number;
  defaultFirst: number;
  /** depth allowed for an operation that selects only introspection fields (GraphiQL's own query is ~13 deep) */
  maxIntrospectionDepth: number;
  /** multiplier of a plain (non-connection) list of objects that LIST_ITEMS does not price */
  listMultiplier: number;
  /** price of one `totalCount` (a count(*) over the list's filter, per parent) */
  countCost: number;
  /** most items in any list input (`mints`, `addresses`, ...), literal or from variables */
  maxListItems: number;
};

/**
 * Defaults: depth 10, 30 aliases, 50 directives, 1,000 tokens, 15,000 characters, cost 5,000, first ≤ 1,000 (50 by
 * default), a count 100, list inputs ≤ 100 items.
 */
export const DEFAULT_LIMITS: GuardLimits = {
  maxDepth: 10,
  maxAliases: 30,
  maxDirectives: 50,
  maxTokens: 1_000,
  maxDocumentChars: 15_000,
  maxCost: 5_000,
  maxFirst: 1_000,
  defaultFirst: 50,
  maxIntrospectionDepth: 15,
  listMultiplier: 10,
  countCost: 100,
  maxListItems: 100,
};

const coded = (code: string, message: string) => createGraphQLError(message, { extensions: { code } });

// Type tests by Symbol.toStringTag rather than instanceof: the schema may come from another copy of graphql
// (ESM and CJS builds side by side), where instanceof fails.
export const tag = (t: unknown) => Object.prototype.toString.call(t).slice(8, -1);
const unwrapNonNull = (t: GraphQLOutputType) =>
  tag(t) === "GraphQLNonNull" ? (t as { ofType: GraphQLOutputType }).ofType : t;
const isList = (t: GraphQLOutputType) => tag(unwrapNonNull(t)) === "GraphQLList";
export function namedType(t: GraphQLOutputType): GraphQLNamedType {
  let x: unknown = t;
  while (tag(x) === "GraphQLNonNull" || tag(x) === "GraphQLList") x = (x as { ofType: unknown }).ofType;
  return x as GraphQLNamedType;
}
const isLeaf = (t: GraphQLNamedType) => tag(t) === "GraphQLScalarType" || tag(t) === "GraphQLEnumType";
export const fieldsOf = (t: GraphQLNamedType): Record<string, GraphQLField<unknown, unknown>> | null =>
  tag(t) === "GraphQLObjectType" || tag(t) === "GraphQLInterfaceType"
    ? (t as unknown as { getFields(): Record<string, GraphQLField<unknown, unknown>> }).getFields()
    : null;

type Fragments = Map<string, FragmentDefinitionNode>;

function fragmentsOf(doc: DocumentNode): Fragments {
  const m: Fragments = new Map();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) m.set(d.name.value, d);
  return m;
}

/** A memoized fold over a selection set with fragments expanded; cycles give Infinity. */
function folder(
  fragments: Fragments,
  onField: (f: FieldNode, inner: (set: SelectionSetNode) => number) => number,
  combine: (a: number, b: number) => number,
) {
  const memo = new Map<string, number>();
  const visiting = new Set<string>();
  const fold = (set: SelectionSetNode): number => {
    let acc = 0;
    for (const s of set.selections) {
      let v: number;
      if (s.kind === Kind.FIELD) v = onField(s, fold);
      else if (s.kind === Kind.INLINE_FRAGMENT) v = fold(s.selectionSet);
      else {
        const name = s.name.value;
        if (visiting.has(name)) return Infinity;
        const known = memo.get(name);
        if (known !== undefined) v = known;
        else {
          const def = fragments.get(name);
          visiting.add(name);
          v = def ? fold(def.selectionSet) : 0;
          visiting.delete(name);
          memo.set(name, v);
        }
      }
      acc = combine(acc, v);
    }
    return acc;
  };
  return fold;
}

/** Depth of an operation: fields nested in fields, fragments expanded. */
export function operationDepth(op: OperationDefinitionNode, fragments: Fragments): number {
  const fold = folder(fragments, (f, inner) => 1 + (f.selectionSet ? inner(f.selectionSet) : 0), Math.max);
  return fold(op.selectionSet);
}

/** True when every root field the operation selects (fragments expanded) is `__schema`, `__type` or `__typename`. */
export function isIntrospectionOnly(op: OperationDefinitionNode, fragments: Fragments): boolean {
  const fold = folder(
    fragments,
    (f) => (f.name.value.startsWith("__") ? 0 : 1),
    (a, b) => a + b,
  );
  return fold(op.selectionSet) === 0;
}

/** Aliased fields an operation executes, fragments expanded (a fragment spread twice counts twice). */
export function aliasCount(op: OperationDefinitionNode, fragments: Fragments): number {
  const fold = folder(
    fragments,
    (f, inner) => (f.alias ? 1 : 0) + (f.selectionSet ? inner(f.selectionSet) : 0),
    (a, b) => a + b,
  );
  return fold(op.selectionSet);
}

/** Directives an operation carries, fragments expanded. */
export function directiveCount(op: OperationDefinitionNode, fragments: Fragments): number {
  let onSpreads = 0;
  const fold = folder(
    fragments,
    (f, inner) => (f.directives?.length ?? 0) + (f.selectionSet ? inner(f.selectionSet) : 0),
    (a, b) => a + b,
  );
  // Directives on fragment spreads, inline fragments and the operation itself count too (walked once each).
  const walk = (set: SelectionSetNode) => {
    for (const s of set.selections) {
      if (s.kind !== Kind.FIELD) onSpreads += s.directives?.length ?? 0;
      if (s.kind !== Kind.FRAGMENT_SPREAD && s.selectionSet) walk(s.selectionSet);
    }
  };
  walk(op.selectionSet);
  for (const f of fragments.values()) walk(f.selectionSet);
  return fold(op.selectionSet) + onSpreads + (op.directives?.length ?? 0);
}

/** The validation rule enforcing depth, aliases and directives on each operation. */
export function shapeRule(
  limits: Pick<GuardLimits, "maxDepth" | "maxAliases" | "maxDirectives" | "maxIntrospectionDepth">,
): ValidationRule {
  return (context) => {
    const fragments = fragmentsOf(context.getDocument());
    return {
      OperationDefinition(op) {
        const maxDepth = isIntrospectionOnly(op, fragments)
          ? Math.max(limits.maxDepth, limits.maxIntrospectionDepth)
          : limits.maxDepth;
        const depth = operationDepth(op, fragments);
        if (depth > maxDepth)
          context.reportError(
            coded(
              "DEPTH_LIMIT",
              Number.isFinite(depth)
                ? `Query depth ${depth} exceeds the limit of ${maxDepth}.`
                : "Fragments must not form a cycle.",
            ),
          );
        const aliases = aliasCount(op, fragments);
        if (aliases > limits.maxAliases)
          context.reportError(
            coded(
              "ALIAS_LIMIT",
              `The query uses ${Number.isFinite(aliases) ? aliases : "unbounded"} aliases; the limit is ${limits.maxAliases}.`,
            ),
          );
        const directives = directiveCount(op, fragments);
        if (directives > limits.maxDirectives)
          context.reportError(
            coded(
              "DIRECTIVE_LIMIT",
              `The query uses ${Number.isFinite(directives) ? directives : "unbounded"} directives; the limit is ${limits.maxDirectives}.`,
            ),
          );
      },
    };
  };
}

/** Cost of an operation and every page size it asks for. */
export type CostReport = { cost: number; largestPage: number };

/**
 * The operation's variables as execution sees them: each value sent, else its definition's default. Pricing the
 * values sent alone would let `query($n: Int = 1000)` pass as if `first` were the default page.
 * @dev a value sent as null stays null (GraphQL does not apply the default then), as graphql-js' coercion does.
 */
export function withDefaults(op: OperationDefinitionNode, variables: Record<string, unknown>): Record<string, unknown> {
  let out = variables;
  for (const d of op.variableDefinitions ?? []) {
    const name = d.variable.name.value;
    if (!d.defaultValue || Object.hasOwn(variables, name)) continue;
    if (out === variables) out = { ...variables };
    out[name] = valueFromASTUntyped(d.defaultValue);
  }
  return out;
}

/** An argument's value (literal or variable, defaults applied), undefined when absent. */
function argValue(field: FieldNode, name: string, variables: Record<string, unknown>): unknown {
  const arg = field.arguments?.find((a) => a.name.value === name);
  return arg ? valueFromASTUntyped(arg.value, variables) : undefined;
}

function pageArg(field: FieldNode, name: "first" | "last", variables: Record<string, unknown>): number | null {
  const v = argValue(field, name, variables);
  return typeof v === "number" ? v : null;
}

/** Instructions one transaction may execute, top-level and inner: the runtime's instruction trace limit. */
const MAX_INSTRUCTIONS_PER_TRANSACTION = 64;
/** Signers one transaction may have: 64-byte signatures and 32-byte keys within a 1,232-byte packet. */
const MAX_SIGNERS_PER_TRANSACTION = 12;
/** What `Pool.candles` spans at most (api/graph/pool.ts refuses more), and its intervals in seconds. */
const MAX_CANDLE_BUCKETS = 5_000;
const CANDLE_SECONDS: Record<string, number> = { M1: 60, M5: 300, H1: 3_600, D1: 86_400 };
const DAY_MS = 86_400_000;

/** DEX presets: the DEXes dexStats may return a row of per bucket. */
const DEX_PRESETS = PRESETS.filter((p) => p.kind === "dex").length;
/** What a market stats call spans at most (api/graph/market.ts refuses more). */
const MAX_STATS_BUCKETS = 2_000;

/** Buckets a market stats call spans: its range over its interval; without `from`, its default (24 or 30). */
function statsBuckets(interval: unknown, from: unknown, to: unknown): number {
  const hour = String(interval) !== "D1";
  const ms = hour ? 3_600_000 : DAY_MS;
  const f = typeof from === "string" ? Date.parse(from) : Number.NaN;
  const t = typeof to === "string" ? Date.parse(to) : Number.NaN;
  // `from` without `to` ends at the priced clock, which only SQL can tell: priced at the most a call may span
  const n = Number.isFinite(f) ? (Number.isFinite(t) ? Math.ceil((t - f) / ms) : MAX_STATS_BUCKETS) : hour ? 24 : 30;
  return Math.min(MAX_STATS_BUCKETS, Math.max(1, n));
}

/** Buckets a candles call spans: its range over its interval, 24 hours when it gives no range. */
function candleBuckets(interval: unknown, from: unknown, to: unknown): number {
  const seconds = CANDLE_SECONDS[String(interval)] ?? CANDLE_SECONDS.M1!;
  const f = typeof from === "string" ? Date.parse(from) : Number.NaN;
  const t = typeof to === "string" ? Date.parse(to) : Number.NaN;
  // Without `to` the window ends at the chain clock, which only SQL can tell: priced as the default day (the
  // resolver still refuses a range past MAX_CANDLE_BUCKETS once it knows the clock).
  const ms = Number.isFinite(t) ? (Number.isFinite(f) ? t - f : DAY_MS) : DAY_MS;
  return Math.min(MAX_CANDLE_BUCKETS, Math.max(1, Math.ceil(ms / 1000 / seconds)));
}

/**
 * Items of each plain (non-connection) list of objects, by `Type.field`: what one call can read, from its arguments.
 * A list missing here is priced at listMultiplier; a unit test requires every list of the schema to be named here.
 */
export const LIST_ITEMS: Record<string, (arg: (name: string) => unknown) => number> = {
  "Pool.candles": (arg) => candleBuckets(arg("interval"), arg("from"), arg("to")),
  // Market rollups (api/graph/market.ts): one row per bucket; without `from`, 24 hours or 30 days.
  "Token.stats": (arg) => statsBuckets(arg("interval"), arg("from"), arg("to")),
  "Token.usdCandles": (arg) => statsBuckets(arg("interval"), arg("from"), arg("to")),
  "Pool.stats": (arg) => statsBuckets(arg("interval"), arg("from"), arg("to")),
  // One row per bucket and DEX: every decoded DEX without `dex`.
  "Query.dexStats": (arg) =>
    statsBuckets(arg("interval"), arg("from"), arg("to")) * (arg("dex") == null ? DEX_PRESETS : 1),
  // At most one row per instruction (64 top-level); priced at a quarter of that: a page's lists are one batched,
  // indexed statement per level, and at the worst case a page of 20 transactions with its swaps, transfers and
  // events would already pass the default cost limit, which a dashboard's transaction list must not.
  "Transaction.swaps": () => MAX_INSTRUCTIONS_PER_TRANSACTION / 4,
  "Transaction.transfers": () => MAX_INSTRUCTIONS_PER_TRANSACTION / 4,
  // One per signer: a transaction of at most 1,232 bytes carries at most 12 signatures with their keys.
  "Transaction.trades": () => MAX_SIGNERS_PER_TRANSACTION,
  // Instructions plus the events a program logs ("Program data:"), which the instruction limit does not bound.
  "Transaction.events": () => MAX_INSTRUCTIONS_PER_TRANSACTION / 2,
  // The tokens a wallet traded in a PnL window (api/graph/pnl.ts): sums of one indexed range of its wallet_pnl rows;
  // priced as a typical wallet's handful rather than the generic multiplier.
  "WalletPnl.tokens": () => 20,
  // A token's top traders: `first` of them (at most 100, default 10).
  "Token.topTraders": (arg) => Math.min(100, Math.max(1, Number(arg("first") ?? 10))),
  // Backfills not done yet: started by the operator, a handful at most (and indexerStatus is a root field only).
  "IndexerStatus.backfills": () => 10,
  // Fixed lengths of the console's lists (DEAD_LETTERS_SHOWN, WORKERS_SHOWN in api/graph); endpoints: the configured
  // RPC URLs, a handful.
  "Query.deadLetters": () => 10,
  "IndexerStatus.workers": () => 10,
  "IndexerStatus.rpcEndpoints": () => 10,
  // A day of buckets, like candles without a range.
  "Token.priceCandles": (arg) => candleBuckets(arg("interval"), undefined, undefined),
};

const isConnection = (t: GraphQLNamedType) => t.name.endsWith("Connection");
const isEdge = (t: GraphQLNamedType) => t.name.endsWith("Edge");

/**
 * Cost: each object resolved costs 1; a connection costs 1 (its query) plus `first` (or `last`, default
 * defaultFirst) times the cost of one edge, plus countCost for `totalCount`; a plain list of objects multiplies by
 * its LIST_ITEMS (else listMultiplier); other scalars are free. Introspection fields are free here (bounded by depth
 * instead). Arguments are read as execution reads them: variables sent, else their defaults.
 */
export function operationCost(
  schema: GraphQLSchema,
  doc: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown>,
  limits: Pick<GuardLimits, "defaultFirst" | "listMultiplier" | "countCost">,
): CostReport {
  const op = doc.definitions.find(
    (d): d is OperationDefinitionNode =>
      d.kind === Kind.OPERATION_DEFINITION && (operationName ? d.name?.value === operationName : true),
  );
  const root =
    op?.operation === "subscription"
      ? schema.getSubscriptionType()
      : op?.operation === "mutation"
        ? schema.getMutationType()
        : schema.getQueryType();
  if (!op || !root) return { cost: 0, largestPage: 0 };
  const vars = withDefaults(op, variables);
  const fragments = fragmentsOf(doc);
  let largestPage = 0;
  const memo = new Map<string, number>();
  const visiting = new Set<string>();
  const cost = (set: SelectionSetNode, parent: GraphQLNamedType, page: number): number => {
    let total = 0;
    for (const s of set.selections) {
      if (s.kind === Kind.INLINE_FRAGMENT) {
        const t = s.typeCondition ? schema.getType(s.typeCondition.name.value) : parent;
        total += t ? cost(s.selectionSet, t, page) : 0;
      } else if (s.kind === Kind.FRAGMENT_SPREAD) {
        const key = `${s.name.value}:${page}`;
        if (visiting.has(key)) return Infinity;
        let v = memo.get(key);
        if (v === undefined) {
          const def = fragments.get(s.name.value);
          const t = def ? schema.getType(def.typeCondition.name.value) : undefined;
          visiting.add(key);
          v = def && t ? cost(def.selectionSet, t, page) : 0;
          visiting.delete(key);
          memo.set(key, v);
        }
        total += v;
      } else {
        if (s.name.value.startsWith("__")) continue;
        const def = fieldsOf(parent)?.[s.name.value];
        if (!def) continue;
        if (s.name.value === "totalCount" && isConnection(parent)) {
          total += limits.countCost;
          continue;
        }
        const named = namedType(def.type);
        const list = isList(def.type);
        if (isLeaf(named)) continue;
        const inner = (p: number) => (s.selectionSet ? cost(s.selectionSet, named, p) : 0);
        if (isConnection(named)) {
          const n = Math.max(pageArg(s, "first", vars) ?? 0, pageArg(s, "last", vars) ?? 0) || limits.defaultFirst;
          largestPage = Math.max(largestPage, n);
          total += 1 + inner(n);
        } else if (list && isEdge(named)) total += page * inner(0);
        else if (list) {
          const items = LIST_ITEMS[`${parent.name}.${s.name.value}`];
          total += (items ? items((name) => argValue(s, name, vars)) : limits.listMultiplier) * (1 + inner(0));
        } else total += 1 + inner(0);
      }
    }
    return total;
  };
  return { cost: cost(op.selectionSet, root, 0), largestPage };
}

/**
 * The validation rule on literals (variable defaults included): a list longer than maxListItems (LIST_LIMIT), a
 * string with a NUL character, which Postgres' text cannot hold (BAD_USER_INPUT).
 */
export function inputRule(limits: Pick<GuardLimits, "maxListItems">): ValidationRule {
  return (context) => ({
    ListValue(node) {
      if (node.values.length > limits.maxListItems) context.reportError(listTooLong(node.values.length, limits));
    },
    StringValue(node) {
      if (node.value.includes("\u0000")) context.reportError(nulInString());
    },
  });
}

const listTooLong = (n: number, limits: Pick<GuardLimits, "maxListItems">) =>
  apiError("LIST_LIMIT", `A list input has ${n} items; the limit is ${limits.maxListItems}.`);
const nulInString = () => apiError("BAD_USER_INPUT", "A string input contains a NUL character.");

/**
 * The same checks over the variables sent: the first list over maxListItems or string with a NUL, anywhere.
 * @dev walked with a stack, not recursion: a body may nest arrays as deep as its size allows.
 */
export function variablesError(
  variables: Record<string, unknown>,
  limits: Pick<GuardLimits, "maxListItems">,
): ReturnType<typeof apiError> | null {
  const stack: unknown[] = [variables];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === "string") {
      if (v.includes("\u0000")) return nulInString();
    } else if (Array.isArray(v)) {
      if (v.length > limits.maxListItems) return listTooLong(v.length, limits);
      for (const x of v) stack.push(x);
    } else if (v !== null && typeof v === "object") for (const x of Object.values(v)) stack.push(x);
  }
  return null;
}
