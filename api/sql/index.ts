/**
 * The API's read path: how a resolver's SQL reaches Postgres, and the pages, cursors and column pruning built on it.
 * This file is the module's one entry; every other file here is private to it.
 *
 * What a caller gets:
 * - `createReadPool(url, { mode })`: the API's own pool, read-only sessions with a statement timeout.
 * - `createReadPools(primary, replicas, opts)` (replicas.ts): reads spread over streaming replicas, each chosen only
 *   once it has replayed the newest batch the API was told of (`require(event.lsn)`); the primary otherwise.
 * - `createReadPath(pool or readPools, { mode, slowQueryConcurrency })`: one per API; `readPath.reader({ signal, onStatement })`
 *   makes the Reader of one request. `reader.rows(sql\`...\`)` resolves with the statement's rows: int8 as numbers,
 *   numeric (amounts) as decimal strings, timestamptz as Dates.
 * - `sql`, `raw`, `join`, `where`: the SQL builder (a value interpolated into `sql` is always a parameter).
 * - `fetchPage`, `fetchPages`, `pageSubquery` over a `ListSpec`: keyset pages (never OFFSET) with opaque cursors, one
 *   statement for a list, or for the first page under each of many parents; a page selects only the columns its
 *   query's node fields read (`nodeReads`), and its ordering's keys.
 * - `selectedChildren`, `selectsPath`: lookahead, so a root field can start its children's reads with its own.
 *
 * Invariants, in both modes:
 * - Within one request the same statement (text and values) is sent once; asking again gets the same promise, until
 *   `reader.forget()` (a subscription's next item). Readers given one `memo` (createStatementMemo) share this: the
 *   subscribers of one indexer event read each statement once.
 * - A request aborted before its statement leaves gets QUERY_CANCELLED; one aborted while its statement runs has the
 *   backend query cancelled (QUERY_CANCELLED; in the pipelined mode, quick statements sharing a pipeline with other
 *   requests' run to their end). A statement stopped by statement_timeout is QUERY_TIMEOUT. Any other error (a
 *   connection refused, an SQL error) is pg's own, which the API masks.
 * - Statements never write (the sessions are read-only); keyset cursors stay valid while rows are inserted.
 *
 * The switch, API_SQL_MODE (`mode` above; the pool and the read path must agree):
 * - `pipelined` (default): pipeline.ts and batch.ts drive pg's protocol directly. A request's statements of one
 *   event-loop turn leave as one pipeline (one checkout, one write, one snapshot); the quick statements of up to 8
 *   requests ready at once share one; named prepared statements run on generic plans, value-sensitive ones on
 *   Postgres' default. The slow lane (slow-gate.ts) learns which shapes run slowly (timed on Postgres' clock) and
 *   lets only `slowQueryConcurrency` of them run at once; it answers OVERLOADED when too many wait. A failing
 *   statement fails the other statements of its pipeline with the same error.
 * - `plain` (plain.ts): each statement is one ordinary query (unnamed, planned by Postgres as usual) on a pool
 *   connection of its own, sent as soon as it is asked for: no batches, no grouping, no slow lane. The same rows and
 *   codes, at the cost of a round trip per statement; the fallback when the pipelined path is suspected.
 */
export { type ReadPoolOptions, type SqlMode, createReadPool } from "./pool.js";
export {
  type ReadPools,
  type ReadPoolsOptions,
  type ReplicaState,
  type ReplicaStatus,
  createReadPools,
  replicaName,
} from "./replicas.js";
export { type ReadPath, type ReadPathOptions, type RequestReadOptions, createReadPath } from "./read-path.js";
export {
  type Reader,
  type RowsOptions,
  type StatementMemo,
  VALUE_SENSITIVE,
  createStatementMemo,
} from "./reader.js";
export { type Fragment, join, raw, sql, where } from "./sql.js";
export { decodeCursor, encodeCursor } from "./cursor.js";
export {
  type Columns,
  type ListSpec,
  type NodeFields,
  type Order,
  type OrderSpec,
  type Page,
  type PageArgs,
  type PageLimits,
  fetchPage,
  fetchPages,
  pageSubquery,
  selectAll,
} from "./page.js";
export { type FieldReads, type Selected, nodeReads, selectedChildren, selectsPath } from "./lookahead.js";
