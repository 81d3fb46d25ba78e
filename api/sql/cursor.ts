/**
 * Opaque keyset cursors: the ordering's name and the row's sort key, base64url-encoded.
 * @dev a cursor names a position, not an offset, so it stays valid while rows are inserted before or after it.
 */
import { apiError } from "../errors.js";

/** The type of each sort-key column, checked when a cursor comes back; `numeric` is an integer amount as a string. */
export type KeyType = "int" | "text" | "numeric";

/** A decoded cursor: which ordering it belongs to and the row's key values. */
export type Cursor = { order: string; key: (number | string)[] };

const VERSION = 1;

/** Encodes a row's position. */
export function encodeCursor(order: string, key: readonly (number | string)[]): string {
  return Buffer.from(JSON.stringify([VERSION, order, ...key])).toString("base64url");
}

/** Decodes and checks a cursor against the ordering in use; throws BAD_CURSOR if it does not fit. */
export function decodeCursor(cursor: string, order: string, types: readonly KeyType[]): Cursor {
  const bad = (why: string) => apiError("BAD_CURSOR", `Invalid cursor: ${why}.`);
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]{1,2048}$/.test(cursor)) throw new Error("not base64url");
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw bad("not a cursor of this API");
  }
  if (!Array.isArray(parsed) || parsed[0] !== VERSION) throw bad("not a cursor of this API");
  if (parsed[1] !== order) throw bad(`it belongs to another ordering (${String(parsed[1])}), not ${order}`);
  const key = parsed.slice(2) as unknown[];
  if (key.length !== types.length) throw bad("wrong key length");
  key.forEach((v, i) => {
    const ok =
      types[i] === "int"
        ? Number.isSafeInteger(v)
        : types[i] === "numeric"
          ? typeof v === "string" && /^-?\d{1,40}$/.test(v)
          : typeof v === "string" && v.length <= 256;
    if (!ok) throw bad("wrong key type");
  });
  return { order, key: key as (number | string)[] };
}
