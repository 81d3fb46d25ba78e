/**
 * Lookahead for single-object root fields: which child fields the document selects under this field, with their
 * arguments, so a root resolver can start their reads in the same batch as its own lookup (see prefetch in
 * graph/token.ts and graph/pool.ts). The child resolvers still run as usual and issue the same SQL, which the
 * request's reader answers from the statement it already sent.
 * @dev speculative: @skip/@include are not evaluated and a missing parent still costs the children's reads; a
 * selection the helper cannot read yields nothing rather than an error.
 */
import {
  type GraphQLField,
  type GraphQLResolveInfo,
  type SelectionSetNode,
  type FieldNode,
  Kind,
  valueFromASTUntyped,
} from "graphql";

/** A selected child field: its name, its arguments and its node in the document. */
export type Selected = { name: string; args: Record<string, unknown>; node: FieldNode };

/**
 * Arguments as written (literals, variables, defaults), without coercion: enough to rebuild the same SQL in the common
 * case; where a coerced value differs (an enum with an internal value), the prefetch is merely wasted.
 * @dev no instanceOf-based graphql helpers: the schema may come from another copy of graphql (ESM vs CJS).
 */
function argumentsOf(
  def: GraphQLField<unknown, unknown>,
  node: FieldNode,
  variables: Record<string, unknown>,
): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const a of def.args) if (a.defaultValue !== undefined) args[a.name] = a.defaultValue;
  for (const a of node.arguments ?? []) args[a.name.value] = valueFromASTUntyped(a.value, variables);
  return args;
}

/** The children of the resolved field named in `names` (every occurrence: aliases, fragments). */
export function selectedChildren(info: GraphQLResolveInfo, names: ReadonlySet<string>): Selected[] {
  let type = info.returnType as unknown as {
    ofType?: unknown;
    getFields?: () => Record<string, GraphQLField<unknown, unknown>>;
  };
  while (type.ofType) type = type.ofType as typeof type;
  if (typeof type.getFields !== "function") return [];
  const fields = type.getFields();
  const out: Selected[] = [];
  const visit = (set: SelectionSetNode | undefined, depth: number) => {
    if (!set || depth > 5) return;
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) {
        const def = fields[s.name.value];
        if (def && names.has(s.name.value))
          out.push({ name: s.name.value, args: argumentsOf(def, s, info.variableValues ?? {}), node: s });
      } else if (s.kind === Kind.INLINE_FRAGMENT) visit(s.selectionSet, depth + 1);
      else visit(info.fragments?.[s.name.value]?.selectionSet, depth + 1);
    }
  };
  try {
    for (const node of info.fieldNodes) visit(node.selectionSet, 0);
  } catch {
    return out; // an unreadable selection: prefetch what was found
  }
  return out;
}

/**
 * True when the resolved field's selection reaches `path` (field names, e.g. edges.node.pool) through any aliases or
 * fragments.
 */
export function selectsPath(info: GraphQLResolveInfo, path: readonly string[]): boolean {
  const reaches = (set: SelectionSetNode | undefined, i: number, depth: number): boolean => {
    if (!set || depth > 12) return false;
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) {
        if (s.name.value === path[i] && (i === path.length - 1 || reaches(s.selectionSet, i + 1, depth + 1)))
          return true;
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        if (reaches(s.selectionSet, i, depth + 1)) return true;
      } else if (reaches(info.fragments?.[s.name.value]?.selectionSet, i, depth + 1)) return true;
    }
    return false;
  };
  try {
    return info.fieldNodes.some((node) => reaches(node.selectionSet, 0, 0));
  } catch {
    return false;
  }
}

/** What a node type's fields read of its row, for the fields that read other than the property of their own name. */
export type FieldReads = ReadonlyMap<string, readonly string[]>;

/**
 * The row properties a connection field (a resolver's info, or a child's node with the document's fragments) reads
 * from its nodes (`edges { node { ... } }`), through aliases, fragments and inline fragments, for a page to select only
 * those columns (page.ts selectFor): each node field reads what `reads` says, else the property of its own name. Null
 * when the selection cannot be read (then a page selects every column).
 * @dev @skip/@include are not evaluated: a skipped field still has its columns read.
 */
export function nodeReads(
  field: Pick<GraphQLResolveInfo, "fieldNodes" | "fragments">,
  reads?: FieldReads,
): Set<string> | null {
  const out = new Set<string>();
  try {
    for (const node of field.fieldNodes)
      if (!visitNodeFields(node.selectionSet, 0, 0, field.fragments, reads, out)) return null;
  } catch {
    return null;
  }
  return out;
}

/**
 * Adds to `out` what the node fields under `set` read; `level` 0: a connection's own fields, 1: an edge's, 2: a
 * node's. False: unreadable.
 */
function visitNodeFields(
  set: SelectionSetNode | undefined,
  level: number,
  depth: number,
  fragments: GraphQLResolveInfo["fragments"] | undefined,
  reads: FieldReads | undefined,
  out: Set<string>,
): boolean {
  if (!set) return true;
  if (depth > 12) return false;
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD) {
      const name = s.name.value;
      if (level === 2) {
        const props = reads?.get(name);
        if (props) for (const p of props) out.add(p);
        else out.add(name);
      } else if (
        level === 0 &&
        name === "edges" &&
        !visitNodeFields(s.selectionSet, 1, depth + 1, fragments, reads, out)
      )
        return false;
      else if (level === 1 && name === "node" && !visitNodeFields(s.selectionSet, 2, depth + 1, fragments, reads, out))
        return false;
    } else if (s.kind === Kind.INLINE_FRAGMENT) {
      if (!visitNodeFields(s.selectionSet, level, depth + 1, fragments, reads, out)) return false;
    } else {
      const f = fragments?.[s.name.value];
      if (!f || !visitNodeFields(f.selectionSet, level, depth + 1, fragments, reads, out)) return false;
    }
  }
  return true;
}
