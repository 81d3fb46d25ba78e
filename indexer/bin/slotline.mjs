#!/usr/bin/env node
// The `slotline` command: runs the TypeScript CLI through tsx, so `npx slotline` needs no build step.
import { register } from "tsx/esm/api";

register();
await import("../main.ts");
