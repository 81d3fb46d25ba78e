/**
 * The README's supported-programs table, generated from the decoders themselves (a unit test checks that
 * README.md carries it). Regenerate with `npx tsx scripts/readme-table.ts --write`.
 */
import { ASSOCIATED_TOKEN_PROGRAM_ID, PRESETS, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID } from "../core/presets.js";
import { dexProgramsById } from "../indexer/decode/registry.js";
import { TOKEN_DECODED } from "../indexer/decode/programs/token-program/index.js";

/** The markers the table sits between in README.md. */
export const TABLE_START = "<!-- programs:start -->";
export const TABLE_END = "<!-- programs:end -->";

const code = (xs: readonly string[]) => xs.map((x) => `\`${x}\``).join(", ");

/** The markdown table: one row per preset program, plus IDL-driven Anchor programs. */
export function supportedProgramsTable(): string {
  const rows: string[][] = [];
  const dex = dexProgramsById();
  for (const preset of PRESETS) {
    for (const id of preset.programIds) {
      let decoded: string;
      if (id === TOKEN_PROGRAM_ID) decoded = `token_transfers, tokens: ${code(TOKEN_DECODED)}`;
      else if (id === TOKEN_2022_PROGRAM_ID)
        decoded = `token_transfers (with fees), tokens: ${code([...TOKEN_DECODED, "transferCheckedWithFee"])}`;
      else if (id === ASSOCIATED_TOKEN_PROGRAM_ID)
        decoded = `token account owners and mints: ${code(["create", "createIdempotent"])}`;
      else if (preset.kind === "aggregator")
        decoded =
          "trades: each signer's sold and bought token, from its own balance changes, whatever venues the route used";
      else {
        const d = dex.get(id);
        if (!d) throw new Error(`preset ${preset.name}: no decoder for ${id}`);
        decoded = `pools, swaps, liquidity_events: ${code(d.decodedInstructions)}`;
        if (d.eventsRead?.length) decoded += `; events read: ${code(d.eventsRead)}`;
      }
      rows.push([`\`${preset.name}\``, preset.description, `\`${id}\``, decoded]);
    }
  }
  rows.push([
    "IDL programs (`IDL_DIR`)",
    "any Anchor program, 0.30+ or legacy IDL",
    "the IDL's address",
    "program_events: every IDL instruction (named accounts, args), `Program data:` events, `emit_cpi!` events",
  ]);
  const head = ["Preset", "Program", "Program id", "Decoded into"];
  return [
    `| ${head.join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

/** README text with the table replaced between the markers (nothing outside them changes). */
export function withTable(readme: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`README.md lacks the ${TABLE_START} / ${TABLE_END} markers`);
  return `${readme.slice(0, start + TABLE_START.length)}\n${supportedProgramsTable()}\n${readme.slice(end)}`;
}

// `tsx scripts/readme-table.ts --write` rewrites README.md; without --write it prints the table
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, "/").split("/").pop()!)) {
  const [{ readFileSync, writeFileSync }, path, { fileURLToPath }] = await Promise.all([
    import("node:fs"),
    import("node:path"),
    import("node:url"),
  ]);
  const readmePath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../README.md");
  if (process.argv.includes("--write")) writeFileSync(readmePath, withTable(readFileSync(readmePath, "utf8")));
  else console.log(supportedProgramsTable());
}
