/**
 * Persisted operations: with a manifest configured, a client names an operation by the SHA-256 of its document
 * (`extensions.persistedQuery.sha256Hash`, as Apollo and yoga clients send it, or `documentId`); a raw document or
 * an unknown hash is refused before parsing, so only the operations the operator shipped can run.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";
import { apiError } from "../errors.js";

/** Hash (lowercase hex SHA-256 of the document text) to document. */
export type PersistedOperations = ReadonlyMap<string, string>;

const HASH = /^[0-9a-f]{64}$/;

/** Builds the store from a manifest object; throws when a key is not the SHA-256 of its document. */
export function persistedOperations(manifest: Record<string, unknown>): PersistedOperations {
  const store = new Map<string, string>();
  const bad: string[] = [];
  for (const [hash, doc] of Object.entries(manifest)) {
    if (typeof doc !== "string" || !HASH.test(hash) || createHash("sha256").update(doc).digest("hex") !== hash)
      bad.push(hash);
    else store.set(hash, doc);
  }
  if (bad.length)
    throw new Error(
      `persisted operations: ${bad.length} entries whose key is not the sha256 of the document (${bad.slice(0, 3).join(", ")})`,
    );
  return store;
}

/** Reads the manifest file named by API_PERSISTED_OPERATIONS. */
export function loadPersistedOperations(file: string): PersistedOperations {
  return persistedOperations(JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>);
}

/** What a request carries: a document, and/or a hash. */
type Params = { query?: string; documentId?: string; extensions?: Record<string, unknown> | null };

/** The document a request may run, or the error that refuses it. */
export function resolvePersisted(
  store: PersistedOperations,
  params: Params,
): { query: string } | { error: GraphQLError } {
  const pq = params.extensions?.persistedQuery as { sha256Hash?: unknown } | undefined;
  const hash =
    typeof pq?.sha256Hash === "string"
      ? pq.sha256Hash
      : typeof params.documentId === "string"
        ? params.documentId.replace(/^sha256:/, "")
        : null;
  // A document next to a hash is refused too: the hash, not client text, decides what runs.
  if (params.query || hash == null)
    return {
      error: apiError(
        "PERSISTED_QUERY_ONLY",
        "This server runs persisted operations only: send extensions.persistedQuery.sha256Hash, not a document.",
        { status: 400 },
      ),
    };
  const query = store.get(hash.toLowerCase());
  if (!query) return { error: apiError("PERSISTED_QUERY_NOT_FOUND", "Unknown persisted operation.", { status: 400 }) };
  return { query };
}

/** The yoga plugin: swaps the hash for the stored document, or answers with the refusal. */
export function usePersistedOperations(store: PersistedOperations): Plugin {
  return {
    onParams({ params, setParams, setResult }) {
      const r = resolvePersisted(store, params as Params);
      // yoga's own parameter check runs after this hook whatever it decides, and refuses unknown keys (documentId)
      // and a missing query: hand it a placeholder when refusing; the result set here is what the client gets.
      const { documentId: _id, ...rest } = params as typeof params & { documentId?: string };
      if ("error" in r) {
        setParams({ ...rest, query: "{ __typename }" });
        setResult({ errors: [r.error] });
      } else setParams({ ...rest, query: r.query });
    },
  };
}
