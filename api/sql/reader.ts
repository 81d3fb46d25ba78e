/**
 * The Reader every resolver's SQL goes through: the contract both modes keep (pipeline.ts, plain.ts), the statement
 * memo they share, and the mapping of Postgres' cancel to the API's coded errors.
 */
import { apiError } from "../errors.js";
import { type Fragment, compile } from "./sql.js";

/** How a statement is planned; see Reader.rows. */
export type RowsOptions = { valueSensitive?: boolean };

/** The options of a statement whose best plan depends on its values. */
export const VALUE_SENSITIVE: RowsOptions = { valueSensitive: true };

/** Runs SQL for one request; identical statements (text and values) within the request run once. */
export type Reader = {
  /**
   * The rows of `q`. A `valueSensitive` statement is one whose best plan depends on its values (a top-level list
   * filtered by a busy mint or a quiet one): Postgres plans it with its default, auto, which may plan it for the
   * values given; in the pipelined mode every other statement runs on its generic plan (createReadPool).
   */
  rows<T>(q: Fragment, opts?: RowsOptions): Promise<T[]>;
  /** Forgets the statements run so far: the same statement asked again is sent again (a subscription's next event). */
  forget(): void;
};

/**
 * Statements sent and their answers, by text then values: a request's own, or one several readers share (the
 * subscribers of one indexer event, so the event's reads run once for all of them).
 */
export type StatementMemo = Map<string, Map<string, Promise<unknown[]>>>;

/** A memo several readers may share (RequestReadOptions.memo). */
export const createStatementMemo = (): StatementMemo => new Map();

/** A statement of a request waiting for its rows. */
export type Pending = {
  text: string;
  values: unknown[];
  valueSensitive: boolean;
  resolve(rows: unknown[]): void;
  reject(err: unknown): void;
};

/** The error of a statement whose request was aborted. */
export const cancelled = () => apiError("QUERY_CANCELLED", "The request was cancelled.");

/**
 * Maps a failed statement to the API's coded errors (57014 is query_canceled: our own cancel, or statement_timeout).
 */
export function mapError(err: unknown, signal: AbortSignal | undefined): unknown {
  if ((err as { code?: string }).code !== "57014") return err;
  if (signal?.aborted) return cancelled();
  return apiError("QUERY_TIMEOUT", "The query took too long and was stopped.");
}

/**
 * The request's statement memo, shared by both modes: a Reader that hands each new statement to `send` (which queues
 * or sends it, and settles it). The same statement twice in one request (a prefetch, then the resolver it was for)
 * gets the same promise.
 */
export function memoReader(
  signal: AbortSignal | undefined,
  send: (p: Pending) => void,
  memo: StatementMemo = new Map(),
): Reader {
  let sent = memo;
  return {
    rows<T>(q: Fragment, opts?: RowsOptions): Promise<T[]> {
      if (signal?.aborted) return Promise.reject(cancelled());
      const { text, values } = compile(q);
      // Keyed by text, then values: no concatenated copy of the (long) text to hash per call.
      const key = JSON.stringify(values);
      let byValues = sent.get(text);
      if (!byValues) sent.set(text, (byValues = new Map()));
      let p = byValues.get(key);
      if (!p) {
        p = new Promise<unknown[]>((resolve, reject) =>
          send({ text, values, valueSensitive: opts?.valueSensitive === true, resolve, reject }),
        );
        byValues.set(key, p);
      }
      return p as Promise<T[]>;
    },
    forget() {
      // a new map, never clear(): the memo may be shared with other readers
      sent = new Map();
    },
  };
}
