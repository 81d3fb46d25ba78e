import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MAX_REQUEST_BODY_BYTES } from "../../../api/server/body-limit-plugin.js";
import { type ApiHarness, setupApi } from "./harness.js";

describe("api request body limit", () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await setupApi({ fill: false });
  });
  afterAll(() => h.close());

  const post = (body: BodyInit, headers: Record<string, string> = {}) =>
    h.api.fetch("http://test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
      duplex: "half",
    } as RequestInit);

  test("a declared Content-Length over the limit is refused with 413 before the body is read", async () => {
    const r = await post("{}", { "content-length": String(MAX_REQUEST_BODY_BYTES + 1) });
    expect(r.status).toBe(413);
  });

  test("a chunked body (no Content-Length) is counted and refused past the limit; under it, it is served", async () => {
    const chunk = new Uint8Array(1_000_000).fill(32);
    let sent = 0;
    const big = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent > MAX_REQUEST_BODY_BYTES) return c.close();
        sent += chunk.byteLength;
        c.enqueue(chunk);
      },
    });
    expect((await post(big)).status).toBe(413);
    const small = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode(JSON.stringify({ query: "{ __typename }" })));
        c.close();
      },
    });
    const ok = await post(small);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ data: { __typename: "Query" } });
  });
});
