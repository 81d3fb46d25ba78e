/**
 * A tiny SQL builder: tagged templates whose interpolations become `$n` parameters, fragments that compose.
 * @dev identifiers and keywords only ever come from code (`raw`), never from a request.
 */

type Chunk = { text: string } | { value: unknown };

/** A piece of SQL with its parameters, not yet numbered. */
export class Fragment {
  constructor(readonly chunks: readonly Chunk[]) {}
}

/** `sql\`... ${value} ...\``: values become parameters; Fragment values are inlined. */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): Fragment {
  const chunks: Chunk[] = [];
  strings.forEach((s, i) => {
    if (s) chunks.push({ text: s });
    if (i < values.length) {
      const v = values[i];
      if (v instanceof Fragment) chunks.push(...v.chunks);
      else chunks.push({ value: v });
    }
  });
  return new Fragment(chunks);
}

/** Trusted SQL text (identifiers, keywords chosen by code). */
export function raw(text: string): Fragment {
  return new Fragment([{ text }]);
}

/** Joins fragments with a separator (`" and "`, `", "`); an empty list gives `empty`. */
export function join(parts: readonly Fragment[], separator: string, empty = ""): Fragment {
  if (parts.length === 0) return raw(empty);
  const chunks: Chunk[] = [];
  parts.forEach((p, i) => {
    if (i > 0) chunks.push({ text: separator });
    chunks.push(...p.chunks);
  });
  return new Fragment(chunks);
}

/** `where a and b` or nothing. */
export function where(conditions: readonly Fragment[]): Fragment {
  return conditions.length ? sql`where ${join(conditions, " and ")}` : raw("");
}

/** Numbers the parameters: text and values for pg. */
export function compile(f: Fragment): { text: string; values: unknown[] } {
  let text = "";
  const values: unknown[] = [];
  for (const c of f.chunks) {
    if ("text" in c) text += c.text;
    else {
      values.push(c.value);
      text += `$${values.length}`;
    }
  }
  return { text, values };
}
