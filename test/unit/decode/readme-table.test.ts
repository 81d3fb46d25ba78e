import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { TABLE_END, TABLE_START, supportedProgramsTable } from "../../../scripts/readme-table.js";
import { PRESETS } from "../../../core/presets.js";
import { REPO_ROOT } from "../../setup/fixtures.js";

describe("README supported-programs table", () => {
  test("README.md carries the generated table between the markers (regenerate: npx tsx scripts/readme-table.ts --write)", () => {
    const readme = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
    const inside = readme.split(TABLE_START)[1]?.split(TABLE_END)[0]?.trim();
    expect(inside).toBe(supportedProgramsTable());
  });

  test("every preset program id has a row", () => {
    const table = supportedProgramsTable();
    for (const p of PRESETS) for (const id of p.programIds) expect(table).toContain(`\`${id}\``);
  });
});
