/**
 * Private Redis and Postgres servers for fault tests that must stop, flush or restart a service: each runs on a
 * free port in a temporary directory, so the machine's shared 5432 / 6379 are never touched.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { appendFileSync, chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import pg from "pg";

const run = promisify(execFile);

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export async function freePort(): Promise<number> {
  // Below Linux's ephemeral range (32768-60999): a port the kernel hands out for port 0 is also what it gives the
  // next outgoing connection, so between this check and the listen a Postgres or Redis client of a concurrent test
  // could take it (EADDRINUSE). Ports here are only taken by whoever asks for them.
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once("error", () => resolve(false));
      s.listen(port, "0.0.0.0", () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error("no free port between 20000 and 32000");
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A private redis-server. */
export type PrivateRedis = {
  url: string;
  port: number;
  dir: string;
  /** Starts it (again) on the same port and directory; with AOF on, the data written before a stop comes back. */
  start(): Promise<void>;
  /** `SHUTDOWN NOSAVE` (or SIGKILL if it does not answer): the process is gone, nothing is saved. */
  stop(): Promise<void>;
  /** One command on a throwaway connection. */
  command(...args: (string | number)[]): Promise<unknown>;
  /** Stops it and removes its directory. */
  destroy(): Promise<void>;
};

/**
 * Starts a redis-server on a free port; `appendonly` keeps data across restarts, `maxmemoryPolicy` defaults to
 * noeviction.
 */
export async function startPrivateRedis(
  opts: { appendonly?: boolean; maxmemoryPolicy?: string; netns?: string; host?: string } = {},
): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "slotline-redis-"));
  let child: ChildProcess | undefined;
  const host = opts.host ?? "127.0.0.1";
  const url = `redis://${host}:${port}`;
  const command = async (...args: (string | number)[]) => {
    const c = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 2_000,
    });
    c.on("error", () => {});
    try {
      await c.connect();
      return await c.call(String(args[0]), ...args.slice(1).map(String));
    } finally {
      c.disconnect();
    }
  };
  const r: PrivateRedis = {
    url,
    port,
    dir,
    async start() {
      const args = [
        "--port",
        String(port),
        "--bind",
        host,
        "--protected-mode",
        "no",
        "--dir",
        dir,
        "--save",
        "",
        "--daemonize",
        "no",
        "--logfile",
        path.join(dir, "redis.log"),
      ];
      args.push("--appendonly", opts.appendonly ? "yes" : "no", "--appendfsync", "always");
      args.push("--maxmemory-policy", opts.maxmemoryPolicy ?? "noeviction");
      child = opts.netns
        ? spawn("ip", ["netns", "exec", opts.netns, "redis-server", ...args], { stdio: "ignore" })
        : spawn("redis-server", args, { stdio: "ignore" });
      await until(`redis-server on ${port}`, async () => (await command("PING")) === "PONG");
    },
    async stop() {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((res) => c.once("exit", res));
      await command("SHUTDOWN", "NOSAVE").catch(() => {});
      const t = setTimeout(() => c.kill("SIGKILL"), 3_000);
      await exited;
      clearTimeout(t);
    },
    command,
    async destroy() {
      await r.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await r.start();
  return r;
}

/** The newest Debian-packaged Postgres server binaries (initdb and pg_ctl are not on PATH there). */
function pgBin(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, "bin/initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions.length) throw new Error(`no Postgres server binaries under ${root} (apt-get install postgresql)`);
  return path.join(root, versions[0]!, "bin");
}

/** A private Postgres cluster (initdb in a temp dir, run as the `postgres` OS user when tests run as root). */
export type PrivatePostgres = {
  /** `start` again after `stop` (same port and data) */
  start(): Promise<void>;
  /** admin URL (database postgres, trust auth) */
  adminUrl: string;
  port: number;
  /** `pg_ctl restart -m fast`: every session is terminated, the server comes back on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
};

/** Runs a binary from the Postgres 15 install as the postgres OS user when we are root (in `netns` when given). */
async function asPostgres(bin: string, args: string[], netns?: string): Promise<void> {
  const file = path.join(pgBin(), bin);
  const inNs = netns ? ["ip", "netns", "exec", netns] : [];
  const cmd =
    process.getuid?.() === 0 ? [...inNs, "runuser", "-u", "postgres", "--", file, ...args] : [...inNs, file, ...args];
  await run(cmd[0]!, cmd.slice(1), { timeout: 60_000 });
}

/**
 * initdb + pg_ctl start on a free port; fsync off (a test cluster), small shared buffers. initdb's own pg_hba admits
 * replication connections from 127.0.0.1 (trust) and wal_level is replica: `startStreamingReplica` can copy it.
 * `replicaOf`: a streaming replica of that cluster instead, made by pg_basebackup (hot standby, its own port).
 */
export async function startPrivatePostgres(
  opts: {
    replicaOf?: PrivatePostgres;
    /** a network namespace to run in, listening on `host` (then admitted from its /24 too) */
    netns?: string;
    host?: string;
    /** more `-c name=value` settings */
    settings?: Record<string, string>;
  } = {},
): Promise<PrivatePostgres> {
  const host = opts.host ?? "127.0.0.1";
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "slotline-pg-"));
  chmodSync(dir, 0o777);
  const data = path.join(dir, "data");
  if (process.getuid?.() === 0) await run("chown", ["postgres", dir]);
  if (opts.replicaOf)
    // -R writes standby.signal and primary_conninfo; -X stream copies the WAL made during the copy too
    await asPostgres("pg_basebackup", [
      ...["-h", "127.0.0.1", "-p", String(opts.replicaOf.port), "-U", "postgres"],
      ...["-D", data, "-R", "-X", "stream", "-c", "fast", "--no-sync"],
    ]);
  else await asPostgres("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]);
  if (host !== "127.0.0.1")
    appendFileSync(
      path.join(data, "pg_hba.conf"),
      `host all all ${host.replace(/\.\d+$/, ".0")}/24 trust\nhost replication all ${host.replace(/\.\d+$/, ".0")}/24 trust\n`,
    );
  const extra = Object.entries(opts.settings ?? {})
    .map(([k, v]) => ` -c ${k}=${v}`)
    .join("");
  const options = `-p ${port} -k ${dir} -c listen_addresses=${host} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=32MB -c max_connections=100${extra}`;
  const adminUrl = `postgres://postgres@${host}:${port}/postgres`;
  const ready = () =>
    until(`postgres on ${port}`, async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      c.on("error", () => {}); // ended by the server between queries (a restart): the next query fails instead
      await c.connect();
      await c.end();
      return true;
    });
  const ctl = (cmd: string, more: string[] = []) =>
    asPostgres("pg_ctl", [cmd, "-D", data, "-l", path.join(dir, "log"), "-o", options, "-w", ...more], opts.netns);
  await ctl("start");
  await ready();
  let stopped = false;
  const self: PrivatePostgres = {
    adminUrl,
    port,
    async start() {
      if (!stopped) return;
      stopped = false;
      await ctl("start");
      await ready();
    },
    async restart() {
      await ctl("restart", ["-m", "fast"]);
      await ready();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await ctl("stop", ["-m", "immediate"]).catch(() => {});
    },
    async destroy() {
      await self.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return self;
}

/** A private Redis master, one replica of it and three sentinels watching it (`name`), each on a free port. */
export type PrivateSentinelRedis = {
  /** REDIS_SENTINELS for them: `127.0.0.1:port,...` */
  sentinels: string;
  name: string;
  /** the port of the master the sentinels name now */
  masterPort(): Promise<number>;
  /** SIGKILLs the current master's process (no save, no goodbye): the sentinels must fail over */
  killMaster(): Promise<number>;
  destroy(): Promise<void>;
};

/**
 * Starts redis-server twice (master, replica) and redis-server --sentinel three times (quorum 2, the master called
 * down after 1 s of silence), in a temporary directory.
 */
export async function startSentinelRedis(name = "slotline"): Promise<PrivateSentinelRedis> {
  const dir = mkdtempSync(path.join(tmpdir(), "slotline-sentinel-"));
  const children = new Map<number, ChildProcess>();
  const ping = async (port: number, ...args: string[]) => {
    const c = new Redis({
      port,
      host: "127.0.0.1",
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    c.on("error", () => {});
    try {
      await c.connect();
      return await c.call(args[0] ?? "PING", ...args.slice(1));
    } finally {
      c.disconnect();
    }
  };
  const server = async (port: number, extra: string[]) => {
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"];
    args.push("--dbfilename", `dump-${port}.rdb`, "--logfile", path.join(dir, `redis-${port}.log`), ...extra);
    children.set(port, spawn("redis-server", args, { stdio: "ignore" }));
    await until(`redis-server on ${port}`, async () => (await ping(port)) === "PONG");
  };
  const master = await freePort();
  const replica = await freePort();
  await server(master, ["--maxmemory-policy", "noeviction"]);
  await server(replica, ["--maxmemory-policy", "noeviction", "--replicaof", "127.0.0.1", String(master)]);
  await until("the replica to sync", async () =>
    /master_link_status:up/.test(String(await ping(replica, "INFO", "replication"))),
  );
  const sentinelPorts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const conf = path.join(dir, `sentinel-${port}.conf`);
    writeFileSync(
      conf,
      [
        `port ${port}`,
        "bind 127.0.0.1",
        `dir ${dir}`,
        `logfile ${path.join(dir, `sentinel-${port}.log`)}`,
        `sentinel monitor ${name} 127.0.0.1 ${master} 2`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 5000`,
        `sentinel parallel-syncs ${name} 1`,
      ].join("\n"),
    );
    children.set(port, spawn("redis-server", [conf, "--sentinel"], { stdio: "ignore" }));
    await until(`sentinel on ${port}`, async () => (await ping(port)) === "PONG");
    sentinelPorts.push(port);
  }
  const masterPort = async () => {
    for (const p of sentinelPorts) {
      const r = (await ping(p, "SENTINEL", "get-master-addr-by-name", name).catch(() => null)) as string[] | null;
      if (r) return Number(r[1]);
    }
    throw new Error("no sentinel answers");
  };
  await until("the sentinels to see the replica", async () => {
    const r = (await ping(sentinelPorts[0]!, "SENTINEL", "replicas", name)) as unknown[];
    return r.length === 1;
  });
  return {
    sentinels: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(","),
    name,
    masterPort,
    async killMaster() {
      const port = await masterPort();
      const c = children.get(port)!;
      const exited = new Promise((r) => c.once("exit", r));
      c.kill("SIGKILL");
      await exited;
      return port;
    },
    async destroy() {
      for (const c of children.values()) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
