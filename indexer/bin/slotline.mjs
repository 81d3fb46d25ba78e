#!/usr/bin/env -S node --max-semi-space-size=64
// The `slotline` command: runs the TypeScript CLI through tsx, so `npx slotline` needs no build step.
// --max-semi-space-size=64 (also in `npm run demo` and the Dockerfile): a young generation of up to 64 MB per
// semi-space instead of 16. What an API request allocates dies young (nothing of it outlives the request: see
// api/patches), so a scavenge costs what is in flight, not how much was allocated, and 4x fewer of them cost a third
// less API CPU per page (README, Performance). V8 reads the flag only at start, hence the shebang.
import { register } from "tsx/esm/api";

register();
await import("../main.ts");
