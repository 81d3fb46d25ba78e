/** Real slotline processes for e2e tests: spawned as a user runs them, killable with any signal. */
import { type ChildProcess, spawn } from "node:child_process";
import { CLI } from "./cli.js";
import { REPO_ROOT } from "./fixtures.js";

/** A running slotline process. */
export type SlotlineProcess = {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
};

/**
 * Starts `slotline <command>` with `env` (plus PATH/HOME); output is kept for failure messages. `netns`: on that
 * network namespace's host (`ip netns exec` replaces itself with node, so the child is the slotline process).
 * `nodeArgs` go to node before the program (`--cpu-prof`, which NODE_OPTIONS does not take).
 */
export function spawnSlotline(
  command: string[],
  env: Record<string, string>,
  opts: { netns?: string; nodeArgs?: string[] } = {},
): SlotlineProcess {
  const argv = [process.execPath, ...(opts.nodeArgs ?? []), ...CLI, ...command];
  if (opts.netns) argv.unshift("ip", "netns", "exec", opts.netns);
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", LOG_LEVEL: "warn", METRICS_PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code, signal) => resolve(code ?? (signal ? -1 : null))),
  );
  return {
    child,
    output: () => out,
    exited,
    async kill(signal: NodeJS.Signals = "SIGKILL") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Polls `check` until it returns true, or throws after `timeoutMs` with `what` in the message. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 60_000,
  everyMs = 200,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
