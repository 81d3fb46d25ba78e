/**
 * Reads that scale out: the API bench's three pages served with two streaming read replicas (DATABASE_READ_URLS)
 * against the same API on the primary alone, in the same run. The primary is a private Postgres cluster holding a
 * copy of today's-size bench dataset (bench/dataset.ts, 150 copies); the replicas are made from it by pg_basebackup
 * and stream from it, all on this machine (so they share its cores: the ratio shows what spreading the reads costs or
 * gains here, not what more machines would add).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { startPrivatePostgres, type PrivatePostgres } from "../../test/setup/private-services.js";
import { BASE_COPIES, dataset } from "../dataset.js";
import type { BenchEntry, BenchSuite } from "../harness.js";
import { CLIENTS, type Load, MEASURE_MS, type Question, load, questions, startServer } from "./api.js";

const REPLICAS = 2;

type Servers = {
  primaryOnly: string;
  withReplicas: string;
  pages: Question[];
  stop(): Promise<void>;
};

/** Runs `cmd` (a shell pipeline of Postgres' own tools); rejects with its stderr when it fails. */
function sh(cmd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn("bash", ["-o", "pipefail", "-c", cmd], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    p.stderr.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    p.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

const urlOf = (adminUrl: string, db: string) => {
  const u = new URL(adminUrl);
  u.pathname = `/${db}`;
  return u.toString();
};

async function prepare(): Promise<Servers> {
  const log = (line: string) => process.stderr.write(`  ${line}\n`);
  const small = await dataset(BASE_COPIES, log);
  const clusters: PrivatePostgres[] = [];
  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const c of children) c.kill("SIGTERM");
    for (const c of clusters.reverse()) await c.destroy();
  };
  try {
    const primary = await startPrivatePostgres({ settings: { shared_buffers: "128MB" } });
    clusters.push(primary);
    log(`copying ${small.name} into a private primary on port ${primary.port}`);
    await sh(`psql -q "${primary.adminUrl}" -c "create database bench"`);
    await sh(`pg_dump --no-owner "${small.url}" | psql -q -v ON_ERROR_STOP=1 "${urlOf(primary.adminUrl, "bench")}"`);
    await sh(`psql -q "${urlOf(primary.adminUrl, "bench")}" -c "analyze"`);
    for (let i = 0; i < REPLICAS; i++)
      clusters.push(await startPrivatePostgres({ replicaOf: primary, settings: { shared_buffers: "128MB" } }));
    const primaryUrl = urlOf(primary.adminUrl, "bench");
    const readUrls = clusters.slice(1).map((c) => urlOf(c.adminUrl, "bench"));
    const since = await new Promise<string>((resolve, reject) => {
      const p = spawn("psql", ["-Atc", "select (max(block_time) - interval '1 day')::text from swaps", primaryUrl]);
      let out = "";
      p.stdout.on("data", (d: Buffer) => (out += d.toString()));
      p.on("exit", (code) => (code === 0 ? resolve(new Date(out.trim()).toISOString()) : reject(new Error("psql"))));
    });
    const started = await Promise.all([
      startServer("slotline", primaryUrl),
      startServer("slotline", primaryUrl, readUrls),
    ]);
    children.push(...started.map((x) => x.child));
    process.once("exit", () => {
      for (const c of children) c.kill("SIGTERM");
    });
    return {
      primaryOnly: started[0]!.url,
      withReplicas: started[1]!.url,
      pages: questions({ ...small.subjects, since }),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

let shared: Promise<Servers> | undefined;
const join = () => (shared ??= prepare());
const f1 = (x: number | undefined) => Math.round((x ?? 0) * 10) / 10;

const suite: BenchSuite = {
  name: "replicas",
  async teardown() {
    if (shared) await (await shared).stop();
    shared = undefined;
  },
  entries() {
    const pageEntry = (i: number): BenchEntry => {
      const last: { replicas?: Load; primary?: Load } = {};
      return {
        name: ["api-replicas-token-page", "api-replicas-pool-page", "api-replicas-wallet-swaps"][i]!,
        description: `the API bench's ${["api-token-page", "api-pool-page", "api-wallet-swaps"][i]} (today's size, ${CLIENTS} clients, response cache off, ${MEASURE_MS / 1000} s per run) with ${REPLICAS} streaming read replicas, against the same API on the primary alone in the same run (throughput ratio; on one machine the replicas share its cores)`,
        unit: "req/s",
        higherIsBetter: true,
        async setup() {
          await join();
        },
        async measure() {
          const s = await shared!;
          last.replicas = await load(s.withReplicas, s.pages[i]!.slotline);
          return last.replicas.rps;
        },
        reference: {
          name: "the same API on the primary alone (same run)",
          async measure() {
            const s = await shared!;
            last.primary = await load(s.primaryOnly, s.pages[i]!.slotline);
            return last.primary.rps;
          },
        },
        async details() {
          return {
            "with replicas p50 / p99 ms (last run)": `${f1(last.replicas?.p50)} / ${f1(last.replicas?.p99)}`,
            "primary alone p50 / p99 ms (last run)": `${f1(last.primary?.p50)} / ${f1(last.primary?.p99)}`,
            errors: (last.replicas?.errors ?? 0) + (last.primary?.errors ?? 0),
          };
        },
      };
    };
    return [0, 1, 2].map(pageEntry);
  },
};

export default suite;
