/**
 * The app's one way to the API: GraphQL over HTTP (POST, relative URL) and subscriptions over SSE, both carrying the
 * viewer's API key (x-api-key) when one was given. Nothing else is fetched.
 */

/** The endpoint, relative to the page: /graphql, or <prefix>/graphql behind a proxy that mounts the app there. */
export const ENDPOINT = new URL("graphql", document.baseURI).toString();

const KEY_STORAGE = "slotline.apiKey";

/** The key the viewer gave (kept in this browser only). */
export const apiKey = {
  get: (): string | null => localStorage.getItem(KEY_STORAGE),
  set: (k: string) => localStorage.setItem(KEY_STORAGE, k),
  clear: () => localStorage.removeItem(KEY_STORAGE),
};

/** The API refused the key (or none was given while keys are on). */
export class AuthError extends Error {}

/** The API answered with errors (guards, rate limit, bad input). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const key = apiKey.get();
  return { "content-type": "application/json", ...(key ? { "x-api-key": key } : {}), ...extra };
}

type GqlBody<T> = { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };

/** Runs one query; throws AuthError on 401, ApiError on any GraphQL error. */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}, signal?: AbortSignal): Promise<T> {
  const res = await fetch(ENDPOINT, {
    method: "POST",
    headers: headers(),
    body: JSON.stringify({ query, variables }),
    signal,
  });
  if (res.status === 401) throw new AuthError("API key required");
  const body = (await res.json()) as GqlBody<T>;
  const err = body.errors?.[0];
  if (err) throw new ApiError(err.message, err.extensions?.code);
  if (!body.data) throw new ApiError(`HTTP ${res.status}`, undefined);
  return body.data;
}

/**
 * A subscription over SSE (graphql-yoga's "distinct connections" mode: one POST whose answer streams `next` events).
 * Calls `onData` for each item; reconnects after a dropped stream until `signal` aborts.
 */
export async function subscribe<T>(
  query: string,
  variables: Record<string, unknown>,
  onData: (data: T) => void,
  signal: AbortSignal,
): Promise<void> {
  while (!signal.aborted) {
    try {
      const res = await fetch(ENDPOINT, {
        method: "POST",
        headers: headers({ accept: "text/event-stream" }),
        body: JSON.stringify({ query, variables }),
        signal,
      });
      if (res.status === 401) throw new AuthError("API key required");
      if (!res.ok || !res.body) throw new ApiError(`HTTP ${res.status}`, undefined);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let i: number;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const chunk = buf.slice(0, i);
          buf = buf.slice(i + 2);
          // `event: complete` carries an empty data line; comments (":") keep the stream alive
          const line = chunk.split("\n").find((l) => l.startsWith("data:"));
          if (!line || line.length <= 6) continue;
          const body = JSON.parse(line.slice(5)) as GqlBody<T>;
          if (body.data) onData(body.data);
        }
      }
    } catch (err) {
      if (signal.aborted || err instanceof AuthError) return;
    }
    // a dropped stream (API restart, proxy timeout): try again shortly, not in a tight loop
    await new Promise((r) => setTimeout(r, 2_000));
  }
}
