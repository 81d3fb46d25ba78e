/**
 * The string policy for everything written to `text` and `jsonb` (reliability bar F5). Postgres rejects U+0000 in
 * text (SQLSTATE 22021) and jsonb (22P05), and a lone UTF-16 surrogate cannot be encoded as UTF-8; such a row would
 * fail its job on every retry. So, before a write:
 *   - U+0000 is removed;
 *   - a lone surrogate (half of a UTF-16 pair without its other half) becomes U+FFFD;
 *   - invalid UTF-8 never gets here: RPC bodies and account data are decoded with replacement, so each invalid
 *     sequence is already U+FFFD;
 *   - length is kept: no stored untrusted string is indexed by a btree (metadata fields are bounded by their
 *     parser), so a 10 KB string is stored whole.
 * Object keys in jsonb follow the same policy. Raw bytes that matter are not text: signatures and keys are base58.
 */

const BAD = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const BAD_ALL = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `s` under the policy above (the same string when it is already clean, which is the common case). */
export function cleanText(s: string): string {
  return BAD.test(s) ? s.replace(BAD_ALL, (m) => (m === "\u0000" ? "" : "\ufffd")) : s;
}

/** What JSON.stringify writes for U+0000 and for a lone surrogate: the escapes that jsonb refuses. */
const BAD_ESCAPE = /\\u(?:0000|d[89a-f])/i;

/**
 * A JSON-safe value with every string and key cleaned; the JSON text for a jsonb parameter.
 * @dev JSON.stringify writes U+0000 and lone surrogates as escapes (a surrogate pair as itself), so a text without
 * such an escape is already clean: one test of the text instead of a replacer called for every value and key.
 */
export function jsonbText(v: unknown): string {
  const plain = JSON.stringify(v);
  if (plain === undefined || !BAD_ESCAPE.test(plain)) return plain;
  return JSON.stringify(v, function (this: unknown, _k, x) {
    if (typeof x === "string") return cleanText(x);
    if (x && typeof x === "object" && !Array.isArray(x)) {
      const keys = Object.keys(x);
      if (keys.some((k) => BAD.test(k)))
        return Object.fromEntries(keys.map((k) => [cleanText(k), (x as Record<string, unknown>)[k]]));
    }
    return x;
  });
}
