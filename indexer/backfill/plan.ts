/** Turns `slotline backfill` arguments into a plan, naming every bad argument and how to fix it. */
import { PRESET_NAMES, PRESETS, isAddress } from "../../core/presets.js";
import { MAX_SIGNATURES_PER_JOB, MAX_SLOTS_PER_JOB } from "../queue/index.js";

/** What to backfill. */
export type BackfillPlan =
  | { kind: "slots"; fromSlot: number; toSlot: number; batchSize: number }
  | { kind: "address"; address: string; before?: string; until?: string; limit?: number; batchSize: number };

/** The raw options commander hands over. */
export type BackfillArgs = {
  fromSlot?: string;
  toSlot?: string;
  program?: string;
  address?: string;
  before?: string;
  until?: string;
  limit?: string;
  batchSize?: string;
};

const SIGNATURE = /^[1-9A-HJ-NP-Za-km-z]{64,88}$/;

/** Parses the arguments; returns the plan or the list of problems (each says what to fix). */
export function parseBackfillPlan(a: BackfillArgs, defaultBatch: number): { plan?: BackfillPlan; problems: string[] } {
  const problems: string[] = [];
  const int = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
      problems.push(`${name} ${v}: expected a whole number`);
      return undefined;
    }
    return Number(v);
  };
  const bySlots = a.fromSlot !== undefined || a.toSlot !== undefined;
  const byAddress = a.program !== undefined || a.address !== undefined;
  // A job carries references only, within MAX_JOB_BYTES: slot numbers, or signatures (about 90 bytes each).
  const maxBatch = bySlots ? MAX_SLOTS_PER_JOB : MAX_SIGNATURES_PER_JOB;
  const batchSize = int("--batch-size", a.batchSize) ?? Math.min(defaultBatch, maxBatch);
  if (batchSize < 1 || batchSize > maxBatch)
    problems.push(`--batch-size ${batchSize}: expected 1 to ${maxBatch} ${bySlots ? "slots" : "signatures"} per job`);
  if (bySlots && byAddress) problems.push("give either --from-slot/--to-slot or --program/--address, not both");
  if (!bySlots && !byAddress)
    problems.push("say what to backfill: --from-slot A --to-slot B, or --program <preset|id>, or --address <id>");

  if (bySlots) {
    const from = int("--from-slot", a.fromSlot);
    const to = int("--to-slot", a.toSlot);
    if (a.fromSlot === undefined) problems.push("--from-slot is missing");
    if (a.toSlot === undefined) problems.push("--to-slot is missing");
    if (from !== undefined && to !== undefined && from > to)
      problems.push(`--from-slot ${from} is above --to-slot ${to}: swap them`);
    if (problems.length === 0) return { plan: { kind: "slots", fromSlot: from!, toSlot: to!, batchSize }, problems };
    return { problems };
  }

  let address = a.address;
  if (a.program !== undefined) {
    if (a.address !== undefined) problems.push("give --program or --address, not both");
    const preset = PRESETS.find((p) => p.name === a.program);
    if (preset) address = preset.programIds[0];
    else if (isAddress(a.program)) address = a.program;
    else
      problems.push(
        `--program ${a.program}: unknown preset; expected one of ${PRESET_NAMES.join(", ")} or a program id`,
      );
  } else if (address !== undefined && !isAddress(address))
    problems.push(`--address ${address}: not a base58 address (32-44 characters)`);
  for (const [name, v] of [
    ["--before", a.before],
    ["--until", a.until],
  ] as const)
    if (v !== undefined && !SIGNATURE.test(v))
      problems.push(`${name} ${v}: not a base58 transaction signature (64-88 characters)`);
  const limit = int("--limit", a.limit);
  if (limit !== undefined && limit < 1) problems.push("--limit must be at least 1");
  if (problems.length) return { problems };
  return { plan: { kind: "address", address: address!, before: a.before, until: a.until, limit, batchSize }, problems };
}
