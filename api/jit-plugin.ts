/**
 * Compiled execution as a yoga plugin: a query document is compiled once by graphql-jit into a JavaScript function
 * (cached per parsed document), which resolves fields without the interpreter's per-field dispatch. Resolvers,
 * DataLoaders, the context and every other plugin stay the same; subscriptions and documents graphql-jit cannot
 * compile keep the standard executor.
 */
import { type DocumentNode, type ExecutionArgs, type GraphQLSchema, Kind } from "graphql";
import { type CompiledQuery, compileQuery, isCompiledQuery } from "graphql-jit";
import type { Plugin } from "graphql-yoga";

/** Most (document, operation) pairs compiled per document; yoga's parser cache bounds the documents. */
const MAX_OPERATIONS_PER_DOCUMENT = 20;

/** The JIT plugin. */
export function useCompiledExecution(): Plugin {
  // null: the document cannot be compiled (or is not a query), so it runs on the standard executor.
  const compiled = new WeakMap<DocumentNode, Map<string, CompiledQuery | null>>();
  const compile = (schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined): CompiledQuery | null => {
    let byName = compiled.get(document);
    if (!byName) compiled.set(document, (byName = new Map()));
    const key = operationName ?? "";
    let c = byName.get(key);
    if (c === undefined) {
      const op = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName));
      const q = op?.kind === Kind.OPERATION_DEFINITION && op.operation === "query" ? compileQuery(schema, document, operationName ?? undefined) : null;
      c = q && isCompiledQuery(q) ? q : null;
      if (byName.size < MAX_OPERATIONS_PER_DOCUMENT) byName.set(key, c);
    }
    return c;
  };
  return {
    onExecute({ args, setExecuteFn }) {
      const c = compile(args.schema, args.document, args.operationName);
      if (c) setExecuteFn((a: ExecutionArgs) => c.query(a.rootValue, a.contextValue, a.variableValues ?? {}) as never);
    },
  };
}
