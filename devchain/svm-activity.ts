/**
 * Live token activity executed by the real SPL Token, Token-2022 and Associated Token Account
 * programs in LiteSVM (svm-script.ts): mints (incl. a Token-2022 transfer-fee mint), token accounts,
 * mintTo, transfer, transferChecked, burn and closeAccount. Each executed transaction becomes a
 * json-encoded TxRecord with the logs, inner instructions, balances and token balances LiteSVM
 * produced; the accounts it touched are copied into the chain's AccountStore when its slot is
 * produced, so getAccountInfo serves them.
 * @dev LiteSVM runs in a child process (svm-worker.ts explains why). The child runs ahead of slot
 * production by a small buffer, so `next()` stays synchronous. If the child dies, a new one starts
 * from the last reported account states and the next unreported step: nothing reported is lost or
 * re-executed, and activity goes on.
 */
import { fork, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { AccountStore } from "./accounts.js";
import type { FromWorker, ToWorker, WireAccount } from "./svm-protocol.js";
import { SVM_MINTS } from "./svm-script.js";
import { createTxRecord, type TxRecord } from "./tx-record.js";

// The executor is this module's sibling: svm-worker.ts under tsx (development, tests), svm-worker.js in the build.
const HERE = fileURLToPath(import.meta.url);
const WORKER = path.join(path.dirname(HERE), `svm-worker${path.extname(HERE)}`);
const U64_MAX = 18446744073709551615n;
const MAX_BACKOFF_MS = 5_000;

/** The activity source the producer draws from. */
export type SvmActivity = {
  /** up to `txPerSlot` executed transactions for a new slot (fewer while the executor catches up) */
  next(slot: number): TxRecord[];
  /** executed / restarts / skipped steps / buffered */
  stats(): { executed: number; restarts: number; skipped: number; buffered: number };
  /** the mints the activity creates, by name */
  mints: Record<string, { mint: string; program: string; decimals: number }>;
  close(): Promise<void>;
};

type Buffered = { record: TxRecord; accounts: WireAccount[] };

/** Starts the LiteSVM executor and resolves once its first transactions are buffered (or after `readyTimeoutMs`). */
export async function createSvmActivity(deps: {
  accounts: AccountStore;
  txPerSlot: number;
  log: (msg: string) => void;
  /** testing hook: arguments for the worker, e.g. `["--abort-at-step", "7"]` */
  workerArgs?: string[];
  readyTimeoutMs?: number;
}): Promise<SvmActivity> {
  const target = Math.max(8, deps.txPerSlot * 8);
  const buffer: Buffered[] = [];
  /** latest state of every account any reported transaction touched: what a new child restores */
  const known = new Map<string, WireAccount>();
  let reported = 0; // steps reported so far = the next step a new child starts at
  let inflight = 0;
  let child: ChildProcess | undefined;
  let ready = false;
  let closing = false;
  let restarts = 0;
  let skipped = 0;
  let backoff = 0;
  let progressSinceSpawn = false;
  let onProgress: (() => void) | undefined;
  /** set while createSvmActivity waits: a first executor that dies before it is ready fails the start */
  let onStartFailure: ((err: Error) => void) | undefined;

  // Only source needs a loader; the build runs as plain JavaScript.
  const loader = WORKER.endsWith(".ts")
    ? ["--import", pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href]
    : [];

  const refill = (): void => {
    if (!child || !ready || inflight > 0 || closing) return;
    const count = target - buffer.length;
    if (count <= 0) return;
    inflight = count;
    child.send({ type: "run", count } satisfies ToWorker);
  };

  const spawn = (): void => {
    ready = false;
    inflight = 0;
    progressSinceSpawn = false;
    const c = fork(WORKER, deps.workerArgs ?? [], {
      execArgv: [...loader, "--no-allocation-site-pretenuring"],
      serialization: "advanced",
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    child = c;
    let stderr = "";
    c.stderr!.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    c.stdout!.resume();
    c.on("message", (m: FromWorker) => {
      if (c !== child) return;
      if (m.type === "ready") {
        ready = true;
        refill();
        return;
      }
      inflight--;
      if (m.step !== reported) deps.log(`svm: step ${m.step} arrived, expected ${reported}`);
      reported = m.step + 1;
      progressSinceSpawn = true;
      backoff = 0;
      if (m.type === "skip") {
        skipped++;
        deps.log(`svm: step ${m.step} skipped: ${m.message}`);
      } else {
        for (const a of m.accounts) known.set(a.pubkey, a);
        buffer.push({ record: createTxRecord(m.raw), accounts: m.accounts });
      }
      onProgress?.();
      if (inflight === 0) refill();
    });
    c.on("exit", (code, signal) => {
      if (c !== child) return;
      child = undefined;
      if (closing) return;
      const tail = stderr.trim().split("\n").slice(-3).join(" | ");
      if (onStartFailure && !ready && !progressSinceSpawn && restarts === 0) {
        onStartFailure(
          new Error(`LiteSVM executor exited before it was ready (code ${code}, signal ${signal}): ${tail}`),
        );
        return;
      }
      restarts++;
      deps.log(
        `svm: executor exited (code ${code}, signal ${signal}) after step ${reported - 1}; restarting from the reported state${tail ? `: ${tail}` : ""}`,
      );
      // A child that dies before reporting anything gets an increasing delay, so a broken setup
      // does not spin; one that made progress is replaced at once.
      backoff = progressSinceSpawn ? 0 : Math.min(MAX_BACKOFF_MS, Math.max(100, backoff * 2));
      setTimeout(() => {
        if (!closing) spawn();
      }, backoff).unref();
    });
    c.send({ type: "init", nextStep: reported, accounts: [...known.values()] } satisfies ToWorker);
  };

  spawn();
  await new Promise<void>((resolve, reject) => {
    const done = (): void => {
      clearTimeout(t);
      onProgress = onStartFailure = undefined;
    };
    const t = setTimeout(() => {
      done();
      deps.log(`svm: no activity buffered within ${deps.readyTimeoutMs ?? 60_000} ms; slots carry it once it arrives`);
      resolve();
    }, deps.readyTimeoutMs ?? 60_000);
    onProgress = () => {
      if (buffer.length < Math.min(target, deps.txPerSlot * 2)) return;
      done();
      resolve();
    };
    onStartFailure = (err) => {
      done();
      closing = true;
      reject(err);
    };
  });

  return {
    next(slot) {
      const taken = buffer.splice(0, deps.txPerSlot);
      for (const { accounts } of taken) {
        for (const a of accounts) {
          deps.accounts.set(
            a.pubkey,
            a.lamports === 0n
              ? null
              : {
                  lamports: Number(a.lamports),
                  owner: a.owner,
                  data: Buffer.from(a.data),
                  executable: a.executable,
                  rentEpoch: U64_MAX,
                },
            slot,
          );
        }
      }
      refill();
      return taken.map((t) => t.record);
    },
    stats: () => ({ executed: reported - skipped, restarts, skipped, buffered: buffer.length }),
    mints: Object.fromEntries(
      SVM_MINTS.map((m) => [
        m.name,
        { mint: m.key.publicKey.toBase58(), program: m.program.toBase58(), decimals: m.decimals },
      ]),
    ),
    async close() {
      closing = true;
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once("exit", () => resolve());
        c.disconnect();
        setTimeout(() => c.kill("SIGKILL"), 2_000).unref();
      });
    },
  };
}
