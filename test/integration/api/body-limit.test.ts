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

  test("the default is 256 KB, variables included: a small document with 300 KB of variables is BODY_TOO_LARGE", async () => {
    expect(MAX_REQUEST_BODY_BYTES).toBe(256 * 1024);
    h.statements.reset();
    const body = JSON.stringify({
      query: "query($m: [String!]) { tokens(where: { mints: $m }) { totalCount } }",
      variables: { m: ["x".repeat(300_000)] },
    });
    const r = await post(body);
    expect(r.status).toBe(413);
    expect(((await r.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe(
      "BODY_TOO_LARGE",
    );
    expect(h.statements.count).toBe(0);
  });

  test("API_MAX_BODY_BYTES sets the limit", async () => {
    const small = await setupApi({ fill: false, config: { API_MAX_BODY_BYTES: 2_000 } });
    try {
      const send = (bytes: number) =>
        small.api.fetch("http://test/graphql", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query: "{ __typename }", variables: { pad: "x".repeat(bytes) } }),
        });
      expect((await send(1_000)).status).toBe(200);
      expect((await send(3_000)).status).toBe(413);
    } finally {
      await small.close();
    }
  });
});
