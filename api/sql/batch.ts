/**
 * A batch of prepared statements sent as one pipeline with a single Sync: Parse (first use on the connection only),
 * Bind, Describe, Execute for each, then Sync. Postgres runs them in one implicit read-only transaction (one
 * snapshot) and answers in one ReadyForQuery, so N sibling reads cost one write, one transaction and one wake-up
 * instead of N. It is a pg "submittable" (the hook pg-cursor uses): pg's client routes backend messages to it.
 * A clocked batch reads Postgres' `clock_timestamp()` before each statement and after the last (one more tiny
 * prepared statement each, in the same pipeline): the differences are the statements' run times on the server,
 * free of the API's event-loop delay (the slow lane's samples, slow-gate.ts).
 * @dev a failing statement makes Postgres skip the rest until the Sync, so the whole batch fails with that error,
 * and the connection's record of which statement names it has parsed can no longer be trusted: callers release
 * the connection as broken after a failed batch.
 */
import pg from "pg";

/** One statement of a batch; `name` is its prepared-statement name, "" for unnamed. */
export type BatchStatement = { text: string; name: string; values: unknown[] };

type Field = { name: string; dataTypeID: number; format: string };
type Connection = {
  parsedStatements: Record<string, string>;
  parse(q: { text: string; name: string; types?: unknown[] }): void;
  bind(c: { portal: string; statement: string; values: unknown[]; valueMapper: unknown }): void;
  describe(m: { type: "P"; name: string }): void;
  execute(c: { portal: string }): void;
  sync(): void;
  stream: { cork?(): void; uncork?(): void };
};
type Parser = (v: string) => unknown;
type TypeSource = { getTypeParser(oid: number, format: "text"): Parser };

const prepareValue = (pg as unknown as { utils: { prepareValue: unknown } }).utils.prepareValue;

/**
 * Each statement's rows, in order, and how long each took (from the previous one's completion, on the API's clock);
 * `serverMs` only in a clocked batch: each statement's run time on Postgres' clock.
 */
export type BatchResult = { rows: unknown[][]; ms: number[]; serverMs?: number[] };

/** The clock statement of a clocked batch: Postgres' current time in ms (a float8, parsed to a number). */
const CLOCK: BatchStatement = {
  text: "select (extract(epoch from clock_timestamp()) * 1000)::float8 as t",
  name: "slotline_clock",
  values: [],
};

/** Runs `statements` on `client` as one batch (clocked on the server when `clock`). */
export function runBatch(
  client: pg.PoolClient,
  given: readonly BatchStatement[],
  types: TypeSource,
  clock = false,
): Promise<BatchResult> {
  const statements = clock ? [CLOCK, ...given.flatMap((s) => [s, CLOCK])] : given;
  const done = (results: unknown[][], ms: number[]): BatchResult => {
    if (!clock) return { rows: results, ms };
    const at = (i: number) => (results[2 * i]![0] as { t: number }).t;
    return {
      rows: given.map((_, i) => results[2 * i + 1]!),
      ms: given.map((_, i) => ms[2 * i + 1]! + ms[2 * i + 2]!),
      serverMs: given.map((_, i) => at(i + 1) - at(i)),
    };
  };
  return new Promise((resolve, reject) => {
    const results: unknown[][] = [];
    const ms: number[] = [];
    let last = performance.now();
    let names: string[] = [];
    let parsers: Parser[] = [];
    let rows: unknown[] = [];
    let failed = false;
    const submittable = {
      statements,
      submit(connection: Connection) {
        connection.stream.cork?.();
        try {
          for (const s of statements) {
            // "" is the unnamed statement: parsed every time, never recorded.
            if (!s.name || connection.parsedStatements[s.name] !== s.text) {
              connection.parse({ text: s.text, name: s.name });
              if (s.name) connection.parsedStatements[s.name] = s.text;
            }
            connection.bind({ portal: "", statement: s.name, values: s.values, valueMapper: prepareValue });
            connection.describe({ type: "P", name: "" });
            connection.execute({ portal: "" });
          }
          connection.sync();
        } finally {
          connection.stream.uncork?.();
        }
        return null;
      },
      handleRowDescription(msg: { fields: Field[] }) {
        names = msg.fields.map((f) => f.name);
        parsers = msg.fields.map((f) => types.getTypeParser(f.dataTypeID, "text"));
      },
      handleDataRow(msg: { fields: (string | null)[] }) {
        const row: Record<string, unknown> = {};
        for (let i = 0; i < names.length; i++) {
          const v = msg.fields[i];
          row[names[i]!] = v == null ? null : parsers[i]!(v);
        }
        rows.push(row);
      },
      handleCommandComplete() {
        const now = performance.now();
        ms.push(now - last);
        last = now;
        results.push(rows);
        rows = [];
        names = [];
        parsers = [];
      },
      handleEmptyQuery() {
        ms.push(0);
        results.push([]);
      },
      handleError(err: Error) {
        failed = true;
        reject(err);
      },
      handleReadyForQuery() {
        if (!failed) resolve(done(results, ms));
      },
      handlePortalSuspended() {},
      handleCopyInResponse() {},
      handleCopyData() {},
    };
    client.query(submittable as never);
  });
}
