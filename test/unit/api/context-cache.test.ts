/**
 * patches/: Pothos' per-request caches (the DataLoaders of every request) live on the request's context, not in
 * module-level WeakMaps, whose values V8's young-generation collections keep alive until a full collection.
 */
import { contextCacheSymbol, createContextCache, initContextCache } from "@pothos/core";
import { describe, expect, test } from "vitest";

describe("Pothos context cache (patched)", () => {
  test("an entry is held by its context, one per context, invisible to Object.assign and spread", () => {
    const cache = createContextCache(() => ({ loader: true }));
    const a: Record<string | symbol, unknown> = {};
    const b: Record<string | symbol, unknown> = {};
    const entry = cache(a);
    expect(cache(a)).toBe(entry);
    expect(cache(b)).not.toBe(entry);
    // the patch: the context itself holds the entry (unpatched, a WeakMap does and the context has no own symbol)
    expect(Object.getOwnPropertySymbols(a).map((s) => a[s])).toEqual([entry]);
    expect(Object.keys(a)).toEqual([]);
    expect({ ...a }).toEqual({});
    cache.delete(a);
    expect(Object.getOwnPropertySymbols(a)).toEqual([]);
    expect(cache(a)).not.toBe(entry);
  });

  test("a context with Pothos' cache key keeps entries on that key, shared by copies of the context", () => {
    const cache = createContextCache(() => ({}));
    const ctx = initContextCache() as Record<symbol, Record<symbol, unknown>>;
    const entry = cache(ctx);
    expect(Object.getOwnPropertySymbols(ctx[contextCacheSymbol]!).map((s) => ctx[contextCacheSymbol]![s])).toEqual([
      entry,
    ]);
    expect(cache({ ...ctx })).toBe(entry);
  });
});
