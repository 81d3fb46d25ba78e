/** Expected API errors: each carries a stable `extensions.code`; anything else is masked as "Unexpected error.". */
import type { GraphQLError } from "graphql";
import { createGraphQLError } from "graphql-yoga";

/** Error codes clients can match on. */
export const ERROR_CODES = [
  "BAD_USER_INPUT",
  "BAD_CURSOR",
  "DEPTH_LIMIT",
  "ALIAS_LIMIT",
  "DIRECTIVE_LIMIT",
  "TOKEN_LIMIT",
  "DOCUMENT_TOO_LARGE",
  "BODY_TOO_LARGE",
  "LIST_LIMIT",
  "COST_LIMIT",
  "FIRST_LIMIT",
  "INTROSPECTION_DISABLED",
  "PERSISTED_QUERY_ONLY",
  "PERSISTED_QUERY_NOT_FOUND",
  "UNAUTHENTICATED",
  "RATE_LIMITED",
  "QUERY_TIMEOUT",
  "QUERY_CANCELLED",
  "OVERLOADED",
  "NOT_READY",
  "INTERNAL_SERVER_ERROR",
] as const;

/** One of ERROR_CODES. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** An expected error with a code (and optionally the HTTP status and headers yoga should answer with). */
export function apiError(
  code: ErrorCode,
  message: string,
  http?: { status: number; headers?: Record<string, string> },
): GraphQLError {
  return createGraphQLError(message, { extensions: http ? { code, http } : { code } });
}

/** True when the error was raised on purpose (it has one of our codes), so it is shown as is. */
export function isExpected(err: unknown): boolean {
  const code = (err as { extensions?: { code?: unknown } } | null)?.extensions?.code;
  return (
    typeof code === "string" && (ERROR_CODES as readonly string[]).includes(code) && code !== "INTERNAL_SERVER_ERROR"
  );
}
