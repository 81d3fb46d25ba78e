import { defineConfig } from "vitest/config";

// `npm run test:abuse`: the API under hostile clients (test/abuse), minutes long and CPU-hungry, so kept out of
// `npm test` (vitest.config.ts).
export default defineConfig({
  test: {
    name: "abuse",
    include: ["test/abuse/**/*.test.ts"],
    globalSetup: ["test/setup/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 300_000,
  },
});
