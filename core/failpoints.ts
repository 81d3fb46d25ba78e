/**
 * Failpoints: named places in the write path where a test can SIGKILL the process or add latency, to prove
 * that a crash at any of them loses and doubles nothing (reliability bar E2, E3, C4, D1).
 *
 * Armed by the test-only variable `SLOTLINE_FAILPOINTS`, a comma-separated list of `name:action`:
 *   - `kill`          SIGKILL this process at the point's first hit
 *   - `kill@N`        SIGKILL at the Nth hit (1-based)
 *   - `kill%P`        SIGKILL at each hit with probability P (0..1)
 *   - `sleep(A-B)`    wait a uniformly random A..B ms (or `sleep(A)`: exactly A ms) at every hit
 * e.g. `SLOTLINE_FAILPOINTS=slot.afterRows:kill@3,job.beforeCommit:sleep(0-300)`.
 *
 * @dev read here, not in config.ts: it is not an operator setting and must never appear in `.env.example`.
 * It is ignored when NODE_ENV=production (the Docker image sets it), so a stray variable in a production
 * environment cannot kill the daemon; a process that arms failpoints says so on stderr. Unset, `failpoint()`
 * is one comparison and returns undefined (no promise, no timer).
 */

/** Every failpoint: where it sits in the write path. */
export const FAILPOINTS = {
  "slot.afterRows": "store: a batch's data rows written, its `slots` rows not yet (same transaction)",
  "slot.afterCheckpointBeforeCommit": "store: rows and `slots` rows written, transaction not committed",
  "slot.afterCommitBeforeAck": "store: transaction committed, the job not yet acknowledged to the queue",
  "rollback.afterDeletes": "store: a rollback's deletes done, tokens/pools not recomputed, not committed",
  "job.beforeCommit": "worker: a job taken from the queue, nothing fetched or written yet",
  "job.afterCommit": "worker: a job's batch committed, the job not yet completed in Redis",
} as const;

/** A failpoint's name. */
export type FailpointName = keyof typeof FAILPOINTS;

type Action = { kind: "kill"; at?: number; p?: number } | { kind: "sleep"; min: number; max: number };

/** The environment variable that arms failpoints. */
export const FAILPOINTS_ENV = "SLOTLINE_FAILPOINTS";

/** Parses a failpoint spec; throws naming every bad entry (a typo must not silently disarm a test). */
export function parseFailpoints(spec: string): Map<FailpointName, Action> {
  const out = new Map<FailpointName, Action>();
  const bad: string[] = [];
  for (const part of spec
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const i = part.indexOf(":");
    const name = part.slice(0, i) as FailpointName;
    const action = part.slice(i + 1);
    if (i < 0 || !(name in FAILPOINTS)) {
      bad.push(`${part} (unknown failpoint; known: ${Object.keys(FAILPOINTS).join(", ")})`);
      continue;
    }
    let m: RegExpMatchArray | null;
    if (action === "kill") out.set(name, { kind: "kill", at: 1 });
    else if ((m = action.match(/^kill@(\d+)$/)) && Number(m[1]) >= 1) out.set(name, { kind: "kill", at: Number(m[1]) });
    else if ((m = action.match(/^kill%(0(?:\.\d+)?|1(?:\.0+)?)$/))) out.set(name, { kind: "kill", p: Number(m[1]) });
    else if ((m = action.match(/^sleep\((\d+)(?:-(\d+))?\)$/)))
      out.set(name, { kind: "sleep", min: Number(m[1]), max: Number(m[2] ?? m[1]) });
    else bad.push(`${part} (expected kill, kill@N, kill%P or sleep(A-B))`);
  }
  if (bad.length) throw new Error(`${FAILPOINTS_ENV}: ${bad.join("; ")}`);
  return out;
}

function arm(env: Record<string, string | undefined>): Map<FailpointName, Action> | null {
  const spec = env[FAILPOINTS_ENV];
  if (!spec) return null;
  if (env.NODE_ENV === "production") {
    process.stderr.write(`${FAILPOINTS_ENV} is set but ignored: NODE_ENV=production\n`);
    return null;
  }
  const parsed = parseFailpoints(spec);
  process.stderr.write(`failpoints armed (test only): ${spec}\n`);
  return parsed;
}

// Test-only, like test/setup/services.ts: the one read of the environment outside config.ts (see @dev above).
const armed = arm(process.env);
const hits = new Map<FailpointName, number>();

/**
 * Passes failpoint `name`: SIGKILLs the process or returns a delay when armed, else returns undefined at once.
 * Call it as `await failpoint("slot.afterRows")`.
 */
export function failpoint(name: FailpointName): Promise<void> | undefined {
  if (armed === null) return undefined;
  const action = armed.get(name);
  if (!action) return undefined;
  const n = (hits.get(name) ?? 0) + 1;
  hits.set(name, n);
  if (action.kind === "sleep") {
    const ms = action.min + Math.random() * (action.max - action.min);
    return new Promise((r) => setTimeout(r, ms));
  }
  if (action.at === n || (action.p !== undefined && Math.random() < action.p)) {
    process.stderr.write(`failpoint ${name}: SIGKILL (hit ${n})\n`);
    process.kill(process.pid, "SIGKILL");
  }
  return undefined;
}
