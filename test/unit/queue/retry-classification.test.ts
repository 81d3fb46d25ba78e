import { DrizzleQueryError } from "drizzle-orm/errors";
import { describe, expect, test } from "vitest";
import {
  DecodeError,
  isRetryable,
  MalformedResponseError,
  RedisUnavailableError,
  RetryableError,
} from "../../../core/errors.js";

// What the worker retries (BullMQ attempts with backoff) and what it fails once (UnrecoverableError, then
// dead_letters). Reliability bar D3 and E6: a lost Postgres connection or a serialization conflict is retried.
const pgError = (code: string, message = "x") => Object.assign(new Error(message), { code });

describe("isRetryable", () => {
  test.each([
    ["40001 serialization_failure", pgError("40001")],
    ["40P01 deadlock_detected", pgError("40P01")],
    [
      "57P01 admin_shutdown (pg_terminate_backend, pg_ctl restart -m fast)",
      pgError("57P01", "terminating connection due to administrator command"),
    ],
    ["57P03 cannot_connect_now (server starting)", pgError("57P03")],
    ["08006 connection_failure", pgError("08006")],
    ["53300 too_many_connections", pgError("53300")],
    ["ECONNREFUSED (server down)", pgError("ECONNREFUSED")],
    ["pg: connection lost mid-query (no code)", new Error("Connection terminated unexpectedly")],
    [
      "pg: client after a connection error",
      new Error("Client has encountered a connection error and is not queryable"),
    ],
    ["drizzle-wrapped 40001", new DrizzleQueryError("insert into slots ...", [], pgError("40001"))],
    [
      "drizzle-wrapped lost connection",
      new DrizzleQueryError("insert into slots ...", [], new Error("Connection terminated unexpectedly")),
    ],
    ["RetryableError", new RetryableError("rpc timeout")],
    ["RedisUnavailableError", new RedisUnavailableError("redis is reconnecting")],
  ])("%s: retried", (_name, err) => expect(isRetryable(err)).toBe(true));

  test.each([
    ["23505 unique_violation", pgError("23505")],
    ["22003 numeric out of range", pgError("22003")],
    ["drizzle-wrapped 23505", new DrizzleQueryError("insert ...", [], pgError("23505"))],
    ["DecodeError", new DecodeError("bad instruction")],
    ["MalformedResponseError", new MalformedResponseError("meta missing")],
    ["a plain Error", new Error("boom")],
    ["not an error", "boom"],
  ])("%s: not retried", (_name, err) => expect(isRetryable(err)).toBe(false));
});
