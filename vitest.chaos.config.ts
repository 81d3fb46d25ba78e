import { defineConfig } from "vitest/config";

// `npm run test:chaos`: the long chaos run (reliability bar E3), kept out of `npm test` (vitest.config.ts),
// which runs the short version in test/e2e/chaos.test.ts.
export default defineConfig({
  test: {
    name: "chaos",
    include: ["test/chaos/**/*.test.ts"],
    globalSetup: ["test/setup/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 1_800_000,
    hookTimeout: 60_000,
  },
});
