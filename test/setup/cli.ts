/** Runs the real `slotline` CLI as a child process, as a user would. */
import { spawn } from "node:child_process";
import path from "node:path";
import { REPO_ROOT } from "./fixtures.js";

/** The CLI entry point (the package's bin). */
export const CLI = path.join(REPO_ROOT, "indexer/bin/slotline.mjs");

/** Runs `slotline ...args` with `env` added to a clean environment; resolves with exit code and output. */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
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
