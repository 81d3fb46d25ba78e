/**
 * Where slotline's own files are: the project root (the folder holding its package.json), found by walking up from
 * this module, so the same code finds `migrations/` whether it runs from source (tsx) or from the build in dist/.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "slotline") return dir;
    if (path.dirname(dir) === dir) throw new Error(`slotline's package.json not found above ${from}`);
  }
}

/** The project root: package.json, migrations/ and (in a checkout) ../shared beside it. */
export const PROJECT_ROOT = findProjectRoot(path.dirname(fileURLToPath(import.meta.url)));
