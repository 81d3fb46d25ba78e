/**
 * `npm run bench [-- --only NAME[,NAME...]]`: runs every suite in bench/entries (or those whose suite or entry name
 * matches), prints a table and writes bench/results.json.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BenchEntry, BenchResult, BenchSuite } from "./harness.js";
import { describeMachine } from "./machine.js";
import { BENCH_PG_ADMIN_URL, BENCH_REDIS_URL } from "./services.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const only = args.includes("--only") ? args[args.indexOf("--only") + 1]!.split(",") : undefined;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const fmt = (n: number) => (Math.abs(n) >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(2));

async function runEntry(e: BenchEntry): Promise<BenchResult> {
  const runs = Math.max(3, e.runs ?? 3);
  await e.setup?.();
  try {
    await e.measure(); // warm-up
    if (e.reference) await e.reference.measure();
    const samples: number[] = [];
    const refSamples: number[] = [];
    for (let i = 0; i < runs; i++) {
      // Interleave the entry and its reference, so both see the same machine state.
      samples.push(await e.measure());
      if (e.reference) refSamples.push(await e.reference.measure());
      process.stderr.write(`  ${e.name}: run ${i + 1}/${runs} ${fmt(samples.at(-1)!)} ${e.unit}\n`);
    }
    const value = median(samples);
    const reference = e.reference
      ? {
          name: e.reference.name,
          value: median(refSamples),
          min: Math.min(...refSamples),
          max: Math.max(...refSamples),
        }
      : null;
    return {
      name: e.name,
      value,
      unit: e.unit,
      min: Math.min(...samples),
      max: Math.max(...samples),
      reference,
      ratio: reference && reference.value !== 0 ? value / reference.value : null,
      details: e.details ? await e.details() : undefined,
    };
  } finally {
    await e.teardown?.();
  }
}

// The processes the bench starts through the bin run the build, as production does: make it current first.
execFileSync("npm", ["run", "--silent", "build"], { cwd: path.join(here, ".."), stdio: "inherit" });

const files = readdirSync(path.join(here, "entries"))
  .filter((f) => f.endsWith(".ts"))
  .sort();
const machine = await describeMachine(BENCH_PG_ADMIN_URL, BENCH_REDIS_URL);
process.stderr.write(
  `machine: ${machine.cpus} x ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, Postgres ${machine.postgres}, Redis ${machine.redis}\n`,
);

const results: BenchResult[] = [];
for (const file of files) {
  const suite = (await import(pathToFileURL(path.join(here, "entries", file)).href)).default as BenchSuite;
  const entries = (await suite.entries()).filter((e) => !only || only.includes(suite.name) || only.includes(e.name));
  if (entries.length === 0) continue;
  process.stderr.write(`suite ${suite.name}\n`);
  try {
    for (const e of entries) results.push(await runEntry(e));
  } finally {
    await suite.teardown?.();
  }
}
if (results.length === 0) {
  process.stderr.write(`no bench matches --only ${only}\n`);
  process.exit(2);
}

const rows = results.map((r) => ({
  name: r.name,
  median: `${fmt(r.value)} ${r.unit}`,
  "min..max": `${fmt(r.min)}..${fmt(r.max)}`,
  reference: r.reference ? `${r.reference.name}: ${fmt(r.reference.value)} ${r.unit}` : "",
  ratio: r.ratio == null ? "" : `${r.ratio.toFixed(2)}x`,
}));
console.log(
  `\nslotline bench, ${machine.date}\nmachine: ${machine.cpus} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}, Postgres ${machine.postgres}, Redis ${machine.redis}\n`,
);
console.table(rows);
for (const r of results) if (r.details) console.log(`${r.name}:`, r.details);
// Merge into the previous results: an `--only` run replaces its own entries and keeps the others.
const file = path.join(here, "results.json");
let previous: BenchResult[] = [];
try {
  previous = (JSON.parse(readFileSync(file, "utf8")) as { results: BenchResult[] }).results ?? [];
} catch {
  // first run
}
const merged = [
  ...previous.filter((p) => !results.some((r) => r.name === p.name)),
  ...results.map((r) => ({ ...r, date: machine.date })),
];
writeFileSync(file, `${JSON.stringify({ machine, results: merged }, null, 2)}\n`);
// results.json keeps the machine beside the entries; each entry has {name, value, unit, min, max, reference, ratio}.
process.exit(0);
