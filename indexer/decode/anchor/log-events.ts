/**
 * `Program data:` lines attributed to the instruction that logged them, by the invoke stack in the logs
 * (the way anchor's EventParser does), mapped onto the flattened instructions.
 * @dev `Program X invoke [n]` lines appear in execution order, one per instruction, so the k-th invoke of
 * X at depth n is the next flattened instruction of X at depth n. After `Log truncated` the lines that
 * still appear are kept but nothing is invented for the ones that were dropped.
 */
import type { FlatIx } from "../tx-view.js";

/** One `Program data:` line: the flattened instruction index that emitted it and its base64 payload. */
export type LogData = { ix: number; programId: string; data: string };

const INVOKE = /^Program (\S+) invoke \[(\d+)\]$/;

/** Walks the logs; `wanted(programId)` limits which programs' data lines are returned. */
export function programDataByInstruction(
  logs: readonly string[],
  ixs: readonly FlatIx[],
  wanted: (programId: string) => boolean,
): LogData[] {
  const out: LogData[] = [];
  const stack: number[] = [];
  let next = 0;
  for (const line of logs) {
    if (!line.startsWith("Program ")) continue;
    if (line.startsWith("Program data: ")) {
      const top = stack[stack.length - 1];
      if (top === undefined || top < 0) continue;
      const ix = ixs[top]!;
      if (!wanted(ix.programId)) continue;
      // sol_log_data logs several slices space-separated; Anchor events are a single slice
      const payload = line.slice("Program data: ".length).split(" ")[0] ?? "";
      out.push({ ix: top, programId: ix.programId, data: payload });
      continue;
    }
    if (line.startsWith("Program log: ") || line.startsWith("Program return: ")) continue;
    const m = INVOKE.exec(line);
    if (m) {
      const programId = m[1]!;
      const depth = Number(m[2]);
      let found = -1;
      for (let i = next; i < ixs.length; i++) {
        const ix = ixs[i]!;
        if (ix.programId === programId && ix.depth === depth) {
          found = i;
          break;
        }
      }
      if (found >= 0) next = found + 1;
      stack.push(found);
      continue;
    }
    if (/^Program \S+ (success|failed)/.test(line)) stack.pop();
  }
  return out;
}
