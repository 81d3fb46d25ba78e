/** Scalars: BigInt (u64/u128 as decimal strings), DateTime (ISO 8601), JSON (decoded program data). */
import { Kind } from "graphql";
import { apiError } from "../errors.js";
import { builder } from "./builder.js";

const DIGITS = /^-?\d{1,40}$/;

/**
 * ISO 8601 date and time with an offset (`Z` or `±hh:mm`): without one, JavaScript reads the time in the server's
 * own zone. Four-digit years only, which keeps every value inside Postgres' timestamptz range.
 */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})$/;

const badBigInt = () => apiError("BAD_USER_INPUT", "BigInt must be a decimal integer string.");
const badDateTime = () =>
  apiError("BAD_USER_INPUT", "DateTime must be an ISO 8601 string with a time zone offset, e.g. 2025-04-09T04:54:22Z.");

/** A DateTime input as a Date; throws BAD_USER_INPUT unless it is a valid ISO 8601 instant with an offset. */
export function parseDateTime(v: unknown): Date {
  if (typeof v !== "string" || !DATE_TIME.test(v)) throw badDateTime();
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw badDateTime();
  return d;
}

builder.scalarType("BigInt", {
  description: "An integer of up to 128 bits (token amounts, lamports), as a decimal string.",
  serialize: (v) => (typeof v === "bigint" ? v.toString() : String(v)),
  parseValue: (v) => {
    const s = typeof v === "number" && Number.isSafeInteger(v) ? String(v) : v;
    if (typeof s !== "string" || !DIGITS.test(s)) throw badBigInt();
    return s;
  },
  parseLiteral: (ast) => {
    if ((ast.kind === Kind.STRING || ast.kind === Kind.INT) && DIGITS.test(ast.value)) return ast.value;
    throw badBigInt();
  },
});

builder.scalarType("DateTime", {
  description: "A point in time, ISO 8601 with a time zone offset (e.g. 2025-04-09T04:54:22.000Z).",
  serialize: (v) => (v instanceof Date ? v.toISOString() : new Date(v).toISOString()),
  parseValue: parseDateTime,
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : null),
});

builder.scalarType("JSON", {
  description: "Arbitrary JSON (decoded instruction or event data; large integers are strings).",
  serialize: (v) => v,
  parseValue: (v) => v,
});
