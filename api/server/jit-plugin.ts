/**
 * Compiled execution as a yoga plugin: a query document that is executed again is compiled by graphql-jit into a
 * JavaScript function (cached per parsed document), which resolves fields without the interpreter's per-field
 * dispatch. Resolvers, DataLoaders, the context and every other plugin stay the same; subscriptions and documents
 * graphql-jit cannot compile keep the standard executor.
 * @dev a document's first execution uses the standard executor: compiling costs several executions' worth of CPU
 * (a code generator and `new Function`), which a one-off document (a literal that changes each time, a client
 * varying its documents to dodge caches) would pay for nothing. A dashboard repeats its documents, so they are
 * compiled on their second run.
 */
import { type DocumentNode, type ExecutionArgs, type GraphQLSchema, Kind } from "graphql";
import { type CompiledQuery, compileQuery, isCompiledQuery } from "graphql-jit";
import type { Plugin } from "graphql-yoga";

/** Most (document, operation) pairs compiled per document; yoga's parser cache bounds the documents. */
const MAX_OPERATIONS_PER_DOCUMENT = 20;

/** Executions of a (document, operation) pair on the standard executor before it is compiled. */
const COMPILE_AFTER_RUNS = 1;

/** The JIT plugin; `onCompile` runs for each (document, operation) pair it compiles (metrics). */
export function useCompiledExecution(opts: { onCompile?: () => void } = {}): Plugin {
  // a number: runs so far on the standard executor; null: cannot be compiled (or not a query), always standard.
  const compiled = new WeakMap<DocumentNode, Map<string, CompiledQuery | number | null>>();
  const compile = (
    schema: GraphQLSchema,
    document: DocumentNode,
    operationName: string | null | undefined,
  ): CompiledQuery | null => {
    let byName = compiled.get(document);
    if (!byName) compiled.set(document, (byName = new Map()));
    const key = operationName ?? "";
    const c = byName.get(key);
    if (c !== undefined && typeof c !== "number") return c; // compiled, or null: cannot be
    const runs = c ?? 0;
    if (runs < COMPILE_AFTER_RUNS) {
      if (byName.size < MAX_OPERATIONS_PER_DOCUMENT || c !== undefined) byName.set(key, runs + 1);
      return null;
    }
    const op = document.definitions.find(
      (d) => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName),
    );
    const q =
      op?.kind === Kind.OPERATION_DEFINITION && op.operation === "query"
        ? compileQuery(schema, document, operationName ?? undefined)
        : null;
    const done = q && isCompiledQuery(q) ? q : null;
    if (done) opts.onCompile?.();
    byName.set(key, done);
    return done;
  };
  return {
    onExecute({ args, setExecuteFn }) {
      const c = compile(args.schema, args.document, args.operationName);
      if (c) setExecuteFn((a: ExecutionArgs) => c.query(a.rootValue, a.contextValue, a.variableValues ?? {}) as never);
    },
  };
}
