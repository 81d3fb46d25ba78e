import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    testTimeout: 15_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["test/unit/**/*.test.ts"] },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/setup/global-setup.ts"],
          // Files share one Redis and spawn processes: run them one at a time.
          fileParallelism: false,
          // One test worker for the files in turn, its module cache kept: about 1.7 s less per file than a fresh
          // worker importing web3.js, anchor, pg, bullmq, graphql again (every file sets up its own state).
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          // The reliability bar's fault scenarios are their own suite (`npm run test:reliability`, which sets
          // SLOTLINE_LONG_TESTS=1 and which CI runs too): `npm test` stays under ten minutes on two cores.
          exclude: process.env.SLOTLINE_LONG_TESTS === "1" ? [] : ["test/e2e/reliability/**"],
          globalSetup: ["test/setup/global-setup.ts"],
          fileParallelism: false,
          isolate: false,
          testTimeout: 120_000,
          // Tests marked concurrent (independent fault runs that mostly wait on a chain's clock): three at a time.
          maxConcurrency: 3,
        },
      },
    ],
  },
});
