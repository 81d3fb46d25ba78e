#!/usr/bin/env -S node --max-semi-space-size=64
// The `slotline` command: runs the build in dist/ (`npm run build`, run by npm install). Development and tests run
// the TypeScript source instead: `node --import tsx cli/main.ts`.
// --max-semi-space-size=64 (also in `npm run demo` and the Dockerfile): a young generation of up to 64 MB per
// semi-space instead of 16. What an API request allocates dies young (nothing of it outlives the request: see
// patches/), so a scavenge costs what is in flight, not how much was allocated, and 4x fewer of them cost a third
// less API CPU per page (docs/performance.md). V8 reads the flag only at start, hence the shebang.
import { existsSync } from "node:fs";

const main = new URL("../../dist/cli/main.js", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write("slotline is not built: run `npm run build` (npm install runs it) in the project folder\n");
  process.exit(1);
}
await import(main.href);
