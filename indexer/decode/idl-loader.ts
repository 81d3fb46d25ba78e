/**
 * Reads the Anchor IDLs of `IDL_DIR` at startup: the one file of this module that does I/O. The CLI calls it and
 * hands the IDLs to createDecoder, which stays pure.
 * Accepts the 0.30+ format and the legacy one; a legacy IDL without `metadata.address` takes its program
 * id from the file name (`<programId>.json`). Files that are not Anchor IDLs (Codama, shank) are skipped.
 */
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { type AnyIdl, idlAddress } from "./anchor/idl-normalize.js";
import { isAddress } from "../../core/presets.js";

/** A file of the folder that was not loaded, and why. */
export type SkippedIdl = { file: string; reason: string };

/** Parses every `*.json` IDL in `dir`; `onSkip` hears about files that are not usable Anchor IDLs. */
export async function loadIdlDir(dir: string, onSkip?: (s: SkippedIdl) => void): Promise<AnyIdl[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith(".json")).sort();
  const out: AnyIdl[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    let json: unknown;
    try {
      json = JSON.parse(await readFile(file, "utf8"));
    } catch (err) {
      onSkip?.({ file, reason: `not JSON: ${(err as Error).message}` });
      continue;
    }
    const idl = json as AnyIdl;
    if (!idl || typeof idl !== "object" || !Array.isArray(idl.instructions)) {
      onSkip?.({ file, reason: "not an Anchor IDL (no instructions array)" });
      continue;
    }
    if (!idlAddress(idl)) {
      const fromName = path.basename(name, ".json");
      if (!isAddress(fromName)) {
        onSkip?.({ file, reason: "no program address in the IDL; name the file <programId>.json" });
        continue;
      }
      out.push({ ...idl, metadata: { ...((idl.metadata as object) ?? {}), address: fromName } });
      continue;
    }
    out.push(idl);
  }
  return out;
}
