/** The one place that resolves the real-data folder: ../shared/fixtures beside the project root. */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The project root. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** ../shared/fixtures, beside the project root. */
export const FIXTURES_DIR = path.resolve(REPO_ROOT, "../shared/fixtures");

/** Path inside the fixtures folder; throws a clear error when the shared folder is missing. */
export function fixturePath(...parts: string[]): string {
  if (!existsSync(FIXTURES_DIR)) throw new Error(`fixtures not found at ${FIXTURES_DIR}: clone ../shared beside the project`);
  return path.join(FIXTURES_DIR, ...parts);
}
