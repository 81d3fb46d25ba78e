/** Scalars: BigInt (u64/u128 as decimal strings), DateTime (ISO 8601), JSON (decoded program data). */
import { Kind } from "graphql";
import { createGraphQLError } from "graphql-yoga";
import { builder } from "./builder.js";

const DIGITS = /^-?\d{1,40}$/;

builder.scalarType("BigInt", {
  description: "An integer of up to 128 bits (token amounts, lamports), as a decimal string.",
  serialize: (v) => (typeof v === "bigint" ? v.toString() : String(v)),
  parseValue: (v) => {
    const s = typeof v === "number" && Number.isSafeInteger(v) ? String(v) : v;
    if (typeof s !== "string" || !DIGITS.test(s)) throw createGraphQLError("BigInt must be a decimal integer string.");
    return s;
  },
  parseLiteral: (ast) => {
    if ((ast.kind === Kind.STRING || ast.kind === Kind.INT) && DIGITS.test(ast.value)) return ast.value;
    throw createGraphQLError("BigInt must be a decimal integer string.");
  },
});

builder.scalarType("DateTime", {
  description: "A point in time, ISO 8601 with time zone (e.g. 2025-04-09T04:54:22.000Z).",
  serialize: (v) => (v instanceof Date ? v.toISOString() : new Date(v).toISOString()),
  parseValue: (v) => {
    const d = typeof v === "string" ? new Date(v) : null;
    if (!d || Number.isNaN(d.getTime())) throw createGraphQLError("DateTime must be an ISO 8601 string.");
    return d;
  },
  parseLiteral: (ast) => {
    const d = ast.kind === Kind.STRING ? new Date(ast.value) : null;
    if (!d || Number.isNaN(d.getTime())) throw createGraphQLError("DateTime must be an ISO 8601 string.");
    return d;
  },
});

builder.scalarType("JSON", {
  description: "Arbitrary JSON (decoded instruction or event data; large integers are strings).",
  serialize: (v) => v,
  parseValue: (v) => v,
});
