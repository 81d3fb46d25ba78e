import { defineConfig } from "vitest/config";

/**
 * `npm run test:browser`: tests that drive a real Chromium (Debian's `chromium` package, /usr/bin/chromium) through
 * playwright-core. Kept out of `npm test`, so the default run needs no browser. The dashboard's tests read a real
 * database (the global setup's migrated template) and Redis, and need the app built (`npm run build:web`).
 */
export default defineConfig({
  test: {
    name: "browser",
    include: ["test/browser/**/*.test.ts"],
    globalSetup: ["test/setup/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
