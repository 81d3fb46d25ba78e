/**
 * Decoded values -> JSON that survives Postgres jsonb and BullMQ payloads unchanged: bigint and BN become
 * decimal strings (u64 max and u128 intact), PublicKey becomes base58, bytes become base64.
 */

/** A JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

type BnLike = { toString(base?: number): string; words: unknown; negative: number };
type PubkeyLike = { toBase58(): string };

/** Converts a decoded value (from anchor's coders) to plain JSON. */
export function toJsonSafe(v: unknown): JsonValue {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case "string":
    case "boolean":
      return v;
    case "number":
      return Number.isFinite(v) ? v : String(v);
    case "bigint":
      return v.toString();
    case "object":
      break;
    default:
      return String(v);
  }
  if (Array.isArray(v)) return v.map(toJsonSafe);
  if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
  const o = v as Record<string, unknown>;
  if (typeof (o as unknown as PubkeyLike).toBase58 === "function") return (o as unknown as PubkeyLike).toBase58();
  if ("words" in o && "negative" in o && typeof o.toString === "function") return (o as unknown as BnLike).toString(10);
  const out: Record<string, JsonValue> = {};
  for (const k of Object.keys(o)) out[k] = toJsonSafe(o[k]);
  return out;
}
