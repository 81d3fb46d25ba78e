/**
 * The error hierarchy: retryable errors are retried with backoff (BullMQ attempts, RPC retries);
 * non-retryable ones fail once and are dead-lettered for inspection and replay.
 */

/** Base of every slotline error; `cause` keeps the original. */
export class BaseError extends Error {
  override name = "BaseError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A transient failure: an RPC timeout or 429, a lost database or Redis connection. */
export class RetryableError extends BaseError {
  override name = "RetryableError";
}

/** A deterministic failure: retrying the same input gives the same error. */
export class NonRetryableError extends BaseError {
  override name = "NonRetryableError";
}

/** A JSON-RPC error object returned by the node (code as in Agave's custom_error.rs). */
export class RpcResponseError extends BaseError {
  override name = "RpcResponseError";
  constructor(
    readonly method: string,
    readonly code: number,
    message: string,
  ) {
    super(`${method}: ${code} ${message}`);
  }
}

/** An RPC response that does not have the shape the protocol promises. */
export class MalformedResponseError extends NonRetryableError {
  override name = "MalformedResponseError";
}

/** A transaction or block that cannot be decoded. */
export class DecodeError extends NonRetryableError {
  override name = "DecodeError";
}

/** Redis is not connected and the command was not queued: the caller backs off and tries again. */
export class RedisUnavailableError extends RetryableError {
  override name = "RedisUnavailableError";
}

/** The Redis server is configured so that queued jobs could be lost (an eviction policy other than noeviction). */
export class RedisConfigError extends NonRetryableError {
  override name = "RedisConfigError";
}

/** pg, Postgres (SQLSTATE) and node network codes that mean "the other side went away" or "try again". */
const RETRYABLE_CODES =
  /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|EAI_AGAIN|57P01|57P02|57P03|53300|08\w{3}|40001|40P01)$/;
/** node-postgres reports a connection lost mid-query with a bare Error (no code): recognised by its message. */
const CONNECTION_LOST =
  /Connection terminated|not queryable|timeout exceeded when trying to connect|Connection is closed/i;

/**
 * True when the error should be retried. Looks through `cause` (drizzle wraps every failed query in a
 * DrizzleQueryError whose cause is the pg error), so a lost connection or a serialization failure inside a
 * store transaction is retried, never dead-lettered as if it were deterministic.
 */
export function isRetryable(err: unknown): boolean {
  let e = err as { code?: unknown; message?: unknown; cause?: unknown } | null | undefined;
  for (let depth = 0; e && depth < 5; depth++, e = e.cause as typeof e) {
    if (e instanceof RetryableError) return true;
    if (e instanceof NonRetryableError) return false;
    if (typeof e.code === "string" && RETRYABLE_CODES.test(e.code)) return true;
    if (typeof e.message === "string" && CONNECTION_LOST.test(e.message)) return true;
  }
  return false;
}
