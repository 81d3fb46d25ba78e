import { defineConfig } from "vitest/config";

/**
 * `npm run test:browser`: tests that drive a real Chromium (Debian's `chromium` package, /usr/bin/chromium) through
 * playwright-core. Kept out of `npm test`, so the default run needs no browser.
 */
export default defineConfig({
  test: {
    name: "browser",
    include: ["test/browser/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
