import { defineConfig } from "vitest/config";

/**
 * The tests `npm run test:mutation` runs against each mutant: the decoder's and the store's unit tests, which need no
 * services (stryker.config.mjs).
 */
export default defineConfig({
  test: {
    include: ["test/unit/decode/**/*.test.ts", "test/unit/store/**/*.test.ts"],
    // instrumented code runs several times slower: the fixture-wide tests need more than the usual 15 s
    testTimeout: 300_000,
  },
});
