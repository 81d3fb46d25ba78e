import { sql } from "drizzle-orm";
import { type AnyPgColumn, check, numeric, timestamp } from "drizzle-orm/pg-core";

/** A u64/u128 token amount or lamport value: numeric(39,0) in Postgres, bigint in TypeScript. */
export const amount = (name: string) => numeric(name, { precision: 39, scale: 0, mode: "bigint" });

/** A block time: timestamptz, Date in TypeScript (null when the RPC does not know it). */
export const blockTime = (name = "block_time") => timestamp(name, { withTimezone: true, mode: "date" });

/** A CHECK constraint that keeps a text column inside its enum (drizzle's text enums are TypeScript-only). */
export const enumCheck = (name: string, column: AnyPgColumn, values: readonly string[]) =>
  check(name, sql`${column} in (${sql.raw(values.map((v) => `'${v}'`).join(", "))})`);
