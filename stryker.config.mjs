/**
 * Mutation testing of the decoder and of the store's row building against the unit tests only
 * (`npm run test:mutation`; not part of CI's default run). docs/reliability.md has the scores and the mutants listed as
 * equivalent.
 * @dev per-test coverage: each mutant runs only the tests that executed it, so the tests decode their fixtures inside
 * the test (test/unit/decode/decoded.ts), never at module or describe level, where every mutant would count as
 * static and need the whole suite. Incremental: a later run re-tests only the mutants whose code or tests changed
 * (reports/stryker-incremental.json, not committed).
 */
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { configFile: "vitest.mutation.config.ts", related: false },
  plugins: ["@stryker-mutator/vitest-runner", "./stryker.ignore-messages.mjs"],
  ignorers: ["log-messages"],
  mutate: [
    "indexer/decode/**/*.ts",
    "indexer/store/values.ts",
    "indexer/store/strings.ts",
    "indexer/store/columns.ts",
    "indexer/store/upsert.ts",
    "indexer/store/write-sql.ts",
  ],
  coverageAnalysis: "perTest",
  // the machine's two cores are shared: one mutant at a time per core at most
  concurrency: 2,
  timeoutMS: 30_000,
  incremental: true,
  incrementalFile: "reports/stryker-incremental.json",
  ignorePatterns: ["dist", "bench", "reports", ".stryker-tmp"],
  reporters: ["clear-text", "progress-append-only", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/mutation.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  thresholds: { high: 80, low: 60, break: null },
  tempDirName: ".stryker-tmp",
  cleanTempDir: true,
};
