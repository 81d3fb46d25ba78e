/** Runs the real `slotline` CLI as a child process, as a user would. */
import { spawn } from "node:child_process";
import path from "node:path";
import { REPO_ROOT } from "./fixtures.js";

/**
 * How tests start the CLI: its TypeScript source under tsx, with the Node flag the bin ships with (the bin itself runs
 * the build in dist/, which a test must not depend on being fresh).
 */
export const CLI = ["--max-semi-space-size=64", "--import", "tsx", path.join(REPO_ROOT, "cli/main.ts")];

/** Runs `slotline ...args` with `env` added to a clean environment; resolves with exit code and output. */
export function runCli(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", LOG_LEVEL: "warn", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
