/**
 * The read-only database role the API connects as: `slotline migrate` creates it (or brings it back to these
 * rights) when DATABASE_READ_ROLE is set. It may log in and SELECT every table of the public schema, and nothing else.
 */
import type pg from "pg";
import type { Config } from "./config.js";

/** The role's name and password (DATABASE_READ_ROLE, DATABASE_READ_PASSWORD). */
export type ReadRole = { name: string; password: string };

/** The configured read role, or null when DATABASE_READ_ROLE is not set. */
export function readRoleOf(config: Pick<Config, "DATABASE_READ_ROLE" | "DATABASE_READ_PASSWORD">): ReadRole | null {
  if (!config.DATABASE_READ_ROLE) return null;
  return { name: config.DATABASE_READ_ROLE, password: config.DATABASE_READ_PASSWORD ?? "" };
}

/** A read role that would take rights away from an administrator: refused, nothing changed. */
export class ReadRoleError extends Error {
  override name = "ReadRoleError";
}

/**
 * Creates the role, or resets an existing one, to: LOGIN with this password, read-only transactions by default,
 * member of no role, CONNECT on this database, USAGE on schema public, SELECT on each of its tables (now and, by
 * default privileges, those later migrations create) and no other table privilege. Idempotent.
 * @dev role names and passwords cannot be bound as parameters in DDL: they are quoted with pg's escape functions.
 * The role attributes are cluster-wide; the grants are per database, so each database migrated with the role
 * grants its own. Temporary tables stay allowed to every role (Postgres grants TEMP to PUBLIC).
 */
export async function ensureReadRole(client: pg.Client, role: ReadRole): Promise<void> {
  const id = client.escapeIdentifier(role.name);
  const found = await client.query<{ rolsuper: boolean; me: boolean }>(
    "select rolsuper, rolname = current_user as me from pg_roles where rolname = $1",
    [role.name],
  );
  const existing = found.rows[0];
  // Resetting the attributes of the migrating user or of a superuser would demote an administrator.
  if (existing?.me || existing?.rolsuper)
    throw new ReadRoleError(
      `DATABASE_READ_ROLE=${role.name} is ${existing.me ? "the role migrations run as" : "a superuser"}; name a role of its own (e.g. slotline_api)`,
    );
  const attributes = `login nosuperuser nocreatedb nocreaterole noinherit noreplication nobypassrls password ${client.escapeLiteral(role.password)}`;
  if (!existing) {
    try {
      await client.query(`create role ${id} ${attributes}`);
    } catch (err) {
      // created meanwhile by a migrate run on another database of the same cluster: reset it below
      if ((err as { code?: string }).code !== "42710" && (err as { code?: string }).code !== "23505") throw err;
    }
  }
  await client.query(`alter role ${id} ${attributes}`);
  await client.query(`alter role ${id} set default_transaction_read_only = on`);
  // Membership would lend the rights of another role (SET ROLE works even with NOINHERIT).
  const memberOf = await client.query<{ rolname: string }>(
    `select r.rolname from pg_auth_members m join pg_roles r on r.oid = m.roleid
      where m.member = (select oid from pg_roles where rolname = $1)`,
    [role.name],
  );
  for (const { rolname } of memberOf.rows) await client.query(`revoke ${client.escapeIdentifier(rolname)} from ${id}`);
  const { rows } = await client.query<{ db: string }>("select current_database() as db");
  await client.query(`grant connect on database ${client.escapeIdentifier(rows[0]!.db)} to ${id}`);
  await client.query(`revoke all on schema public from ${id}`);
  await client.query(`grant usage on schema public to ${id}`);
  // A privilege granted by hand earlier (insert, truncate, ...) is taken back: SELECT only.
  await client.query(`revoke all on all tables in schema public from ${id}`);
  await client.query(`revoke all on all sequences in schema public from ${id}`);
  await client.query(`grant select on all tables in schema public to ${id}`);
  await client.query(`alter default privileges in schema public grant select on tables to ${id}`);
}
