/**
 * What a node field reads of its row, declared with the field, so a page selects only the columns its query needs
 * (api/sql selectFor): `extensions: reads<SwapRecord>("mintIn", "amountIn")` on a field whose resolver reads other
 * properties than the one of its own name. An exposed field reads the property it exposes; any other field reads the
 * property of its own name, or, when the row has no such property, makes its page select every column.
 */
import type { GraphQLResolveInfo, GraphQLSchema } from "graphql";
import { type FieldReads, type NodeFields, nodeReads } from "../sql/index.js";

/** The field extension naming the row properties a field's resolver reads. */
export const READS = "slotlineReads";

/** Declares the row properties (of a row shape `R`) a field's resolver reads: spread into its `extensions`. */
export function reads<R>(...properties: (keyof R & string)[]): { [READS]: readonly string[] } {
  return { [READS]: properties };
}

/** The fields of each object type that read other properties than the one of their own name, by schema. */
const bySchema = new WeakMap<GraphQLSchema, Map<string, FieldReads>>();

/** What the fields of object type `typeName` read, where not the property of their own name. */
function fieldReads(schema: GraphQLSchema, typeName: string): FieldReads {
  let byType = bySchema.get(schema);
  if (!byType) bySchema.set(schema, (byType = new Map()));
  let found = byType.get(typeName);
  if (found) return found;
  const map = new Map<string, readonly string[]>();
  const type = schema.getType(typeName) as { getFields?: () => Record<string, { extensions?: object | null }> };
  for (const [name, field] of Object.entries(type.getFields?.() ?? {})) {
    const ext = (field.extensions ?? {}) as { [READS]?: readonly string[]; pothosExposedField?: unknown };
    // Pothos marks `t.expose*("property")` fields with the property they expose.
    const exposed = typeof ext.pothosExposedField === "string" ? [ext.pothosExposedField] : undefined;
    const props = ext[READS] ?? exposed;
    if (props && (props.length !== 1 || props[0] !== name)) map.set(name, props);
  }
  byType.set(typeName, (found = map));
  return found;
}

/**
 * The row properties a connection field's query reads of its nodes of type `typeName` (a resolver's info, or a
 * prefetched child's node with the document's fragments and the schema).
 */
export function pageFields(
  field: Pick<GraphQLResolveInfo, "fieldNodes" | "fragments" | "schema">,
  typeName: string,
): NodeFields {
  return nodeReads(field, fieldReads(field.schema, typeName));
}
