/** The one place that resolves the real-data folder: ../shared/fixtures beside the project root. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { DecodedBlock, Decoder } from "../../indexer/decode/index.js";
import type { RawBlock } from "../../core/solana-types.js";

/** The project root. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** ../shared/fixtures, beside the project root. */
export const FIXTURES_DIR = path.resolve(REPO_ROOT, "../shared/fixtures");

/** Path inside the fixtures folder; throws a clear error when the shared folder is missing. */
export function fixturePath(...parts: string[]): string {
  if (!existsSync(FIXTURES_DIR))
    throw new Error(`fixtures not found at ${FIXTURES_DIR}: clone ../shared beside the project`);
  return path.join(FIXTURES_DIR, ...parts);
}

/** The two whole mainnet blocks (getBlock, json encoding), decoded by `decoder`, in slot order. */
export function decodedFixtureBlocks(decoder: Pick<Decoder, "decodeBlock">): DecodedBlock[] {
  const dir = fixturePath("blocks/getBlock-json-mainnet-converted");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => {
      const raw = JSON.parse(readFileSync(path.join(dir, f), "utf8"));
      return decoder.decodeBlock((raw.result ?? raw) as RawBlock, Number(/(\d{6,})/.exec(f)![1]));
    })
    .sort((a, b) => a.slot - b.slot);
}
