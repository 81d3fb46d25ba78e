/**
 * The local Solana chain: JSON-RPC over HTTP, PubSub over WebSocket (HTTP port + 1) and Geyser over gRPC (HTTP
 * port + 2) serving recorded mainnet data, synthetic load cloned from it, and LiteSVM-executed token activity.
 * An unmodified @solana/web3.js v1 Connection cannot tell it from a validator.
 */
import { existsSync, readdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { PROJECT_ROOT } from "../core/paths.js";
import { createAccountStore, loadRecordedMints } from "./accounts.js";
import { createSupplyHistory, initializedMints } from "./mint-supply.js";
import { createBlockCache } from "./encode.js";
import { createFaults, parseFaults, type FaultSpec } from "./faults.js";
import { createGeyserServer } from "./geyser-server.js";
import { loadFixtures, type FixtureProblem } from "./fixtures.js";
import { createHttpHandler } from "./http-server.js";
import { createLedger, slotHash, type BlockRecord, type Commitment } from "./ledger.js";
import { buildHistory, createProducer } from "./producer.js";
import { createPubSub } from "./pubsub.js";
import { createRpcMethods } from "./rpc-methods.js";
import { createSyntheticSource } from "./synthetic.js";
import type { SvmActivity } from "./svm-activity.js";
import type { TxRecord } from "./tx-record.js";

export { parseFaults, type FaultSpec } from "./faults.js";
export type { FixtureProblem } from "./fixtures.js";
export type { Commitment } from "./ledger.js";

/** Options of createChain; every field has the CLI's default. */
export type ChainOptions = {
  /** HTTP port (default 8899); WebSocket is port + 1. 0 picks a free pair. */
  port?: number;
  host?: string;
  /** files or folders of recorded getBlock/getTransaction results; default: defaultFixturePaths() */
  fixtures?: string[];
  /** new slot every slotMs after the recorded history (default 400) */
  slotMs?: number;
  /** synthetic transactions per second cloned from the recorded ones (default 0) */
  syntheticTps?: number;
  /** clone only recorded transactions that invoke one of these program ids, top level or inner (default: all) */
  syntheticPrograms?: string[];
  /** execute SPL Token / Token-2022 activity in LiteSVM in new slots (default false) */
  svmActivity?: boolean;
  /** LiteSVM transactions per slot when svmActivity is on (default 4) */
  svmTxPerSlot?: number;
  /** testing hook: arguments for the LiteSVM executor process (see svm-worker.ts) */
  svmWorkerArgs?: string[];
  /** finalized lags the newest slot by this many slots (default 32) */
  finalityLag?: number;
  /** fault spec string (see faults.ts) or parsed spec */
  faults?: string | FaultSpec;
  /**
   * folders of recorded getMultipleAccounts answers (request and answer, as in ../shared/fixtures'
   * litesvm-replay-snapshot folders) whose token mints are served with their recorded bytes (default none)
   */
  recordedAccounts?: string[];
  /** serve the recorded history only, all finalized, no new slots */
  once?: boolean;
  /** methods answered -32601 (an archive such as Old Faithful serves no getBlocks / getBlocksWithLimit) */
  withoutMethods?: string[];
  /** produce slots on the timer (default true); false = only by chain.tick() */
  autoProduce?: boolean;
  /** gRPC (Geyser) port (default HTTP port + 2; a free one when port is 0) */
  grpcPort?: number;
  /** blocks a gRPC `from_slot` may go back (Yellowstone's replay_stored_slots; default 150; 0 refuses from_slot) */
  grpcReplaySlots?: number;
  /** byte budget of the encoded-block cache (default 512 MiB) */
  cacheBytes?: number;
  /** receives startup and fixture messages; default silent */
  log?: (msg: string) => void;
};

/** A running chain. */
export type Chain = {
  rpcUrl: string;
  wsUrl: string;
  port: number;
  wsPort: number;
  /** the Geyser gRPC endpoint (SOLANA_GRPC_URL) */
  grpcUrl: string;
  grpcPort: number;
  /** fixture files that could not be used, with the reason */
  problems: FixtureProblem[];
  /** recorded history: slots with a block, and every recorded signature in chain order */
  history: { slots: number[]; signatures: string[]; transactions: number; files: number; duplicates: number };
  /** absolute slots the fork fault will drop */
  forkSlots: number[];
  /** highest slot at a commitment */
  slot(commitment?: Commitment): number;
  /** produces one slot now (also with autoProduce false) and returns it */
  tick(): number;
  /** drops finalized block `slot`: a fork whose common ancestor is below the finalized slot (test hook, C3) */
  dropFinalized(slot: number): void;
  /** resolves once `slot` is visible at `commitment` (default processed) */
  waitForSlot(slot: number, commitment?: Commitment, timeoutMs?: number): Promise<void>;
  /** counters: requests, calls, notifications, faults */
  stats(): Record<string, number>;
  /** number of live WebSocket subscriptions (all kinds, or one kind) */
  subscriptions(kind?: "slot" | "root" | "logs" | "signature"): number;
  /** closes every WebSocket connection: abnormally (client sees 1006) or with code 1000 */
  dropWebSockets(mode: "abnormal" | "1000"): void;
  /** ends every gRPC Subscribe call with UNAVAILABLE (a stream reset) */
  dropGrpc(): void;
  /** restarts the gRPC server: every connection cut, nothing listening for `downMs`, then the same port again */
  restartGrpc(downMs: number): Promise<void>;
  /** open gRPC Subscribe calls */
  grpcSubscribers(): number;
  close(): Promise<void>;
};

const REPO_ROOT = PROJECT_ROOT;
const GENESIS_MAINNET = "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d";

/** The shared fixtures folder, resolved from the repository root. */
export function sharedFixturesDir(repoRoot = REPO_ROOT): string {
  return path.resolve(repoRoot, "../shared/fixtures");
}

/** Default fixtures: the two whole mainnet blocks and every program's mainnet transaction folders. */
export function defaultFixturePaths(repoRoot = REPO_ROOT): string[] {
  return fixtureFolders(sharedFixturesDir(repoRoot));
}

/** The folders of a fixtures tree (laid out as ../shared/fixtures) that the chain serves: blocks and transactions. */
export function fixtureFolders(root: string): string[] {
  if (!existsSync(root)) return [];
  const out = [path.join(root, "blocks/getBlock-json-mainnet-converted")];
  for (const program of readdirSync(root).sort()) {
    for (const sub of [
      "transactions",
      "transactions-from-mainnet-blocks",
      "transactions-converted-from-geyser",
      "blocks-mainnet",
    ]) {
      const p = path.join(root, program, sub);
      if (existsSync(p)) out.push(p);
    }
  }
  return out;
}

/** Whether a recorded transaction invokes one of `programs`, as a top-level or an inner instruction. */
function invokesAny(t: TxRecord, programs: Set<string>): boolean {
  const ixs = [
    ...t.raw.transaction.message.instructions,
    ...(t.raw.meta?.innerInstructions ?? []).flatMap((i) => i.instructions),
  ];
  return ixs.some((ix) => programs.has(t.accountKeys[ix.programIdIndex]!));
}

/** Starts a chain and resolves once both ports listen. */
export async function createChain(opts: ChainOptions = {}): Promise<Chain> {
  const log = opts.log ?? (() => {});
  const slotMs = opts.slotMs ?? 400;
  const finalityLag = opts.finalityLag ?? 32;
  const faultSpec =
    typeof opts.faults === "string" || opts.faults === undefined ? parseFaults(opts.faults) : opts.faults;
  const faults = createFaults(faultSpec);

  const loaded = loadFixtures(opts.fixtures ?? defaultFixturePaths());
  for (const p of loaded.problems) log(`fixture skipped: ${p.file}: ${p.reason}`);
  const templates: TxRecord[] = loaded.blocks.flatMap((b) => b.txs);
  // A mint is initialised once: a replayed initialisation is a transaction no validator would execute.
  const initialized = new Set(templates.flatMap(initializedMints));
  const replayable = templates.filter((t) => initializedMints(t).length === 0);
  const synthetic = createSyntheticSource(
    opts.syntheticPrograms?.length
      ? replayable.filter((t) => invokesAny(t, new Set(opts.syntheticPrograms)))
      : replayable,
  );
  // Synthetic load clones recorded transactions: with none to clone its blocks would be silently empty.
  if ((opts.syntheticTps ?? 0) > 0 && synthetic.templates.length === 0) {
    const where = opts.fixtures
      ? opts.fixtures.join(", ")
      : `${sharedFixturesDir()} (clone ../shared beside the project)`;
    throw new Error(
      `syntheticTps ${opts.syntheticTps}: no recorded transactions to clone${opts.syntheticPrograms?.length ? " that invoke the syntheticPrograms" : ""} in ${where}`,
    );
  }
  const ledger = createLedger(synthetic);
  buildHistory(ledger, loaded.blocks);
  const accounts = createAccountStore();
  accounts.addMintsFrom(templates, initialized);
  accounts.trackSupply(createSupplyHistory(ledger, synthetic, templates).changeUpTo);
  // recorded mint accounts replace the ones derived from balances: they are the real bytes
  const recordedMints = loadRecordedMints(accounts, opts.recordedAccounts ?? []);
  if (recordedMints.length) log(`serving ${recordedMints.length} recorded mint accounts`);
  const history = {
    slots: [...ledger.slots],
    signatures: templates.map((t) => t.signature),
    transactions: templates.length,
    files: loaded.files,
    duplicates: loaded.duplicates,
  };
  log(
    `loaded ${history.transactions} transactions in ${history.slots.length} blocks from ${loaded.files} files (${loaded.problems.length} skipped)`,
  );

  const cache = createBlockCache(opts.cacheBytes ?? 512 * 1024 * 1024);
  const methods = createRpcMethods({
    ledger,
    synthetic,
    cache,
    accounts,
    faults,
    without: new Set(opts.withoutMethods ?? []),
    genesisHash: GENESIS_MAINNET,
    identity: slotHash("identity", 0),
    version: { "solana-core": "2.2.14", "feature-set": 3294202862 },
  });
  const httpStats = { requests: 0, calls: 0 };
  const pubsub = createPubSub({ ledger, faults });
  const geyser = createGeyserServer({
    ledger,
    faults,
    replaySlots: opts.grpcReplaySlots ?? 150,
    dropEvery: faultSpec.grpcDropEvery,
  });

  const waiters: { slot: number; c: Commitment; resolve: () => void }[] = [];
  const wake = (): void => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      if (ledger.slotAt(w.c) >= w.slot) {
        waiters.splice(i, 1);
        w.resolve();
      }
    }
  };

  let activity: ((slot: number) => TxRecord[]) | undefined;
  let svm: SvmActivity | undefined;
  if (opts.svmActivity && !opts.once) {
    const { createSvmActivity } = await import("./svm-activity.js");
    svm = await createSvmActivity({
      accounts,
      txPerSlot: opts.svmTxPerSlot ?? 4,
      log,
      ...(opts.svmWorkerArgs ? { workerArgs: opts.svmWorkerArgs } : {}),
    });
    activity = (slot) => svm!.next(slot);
  }

  const producer = createProducer({
    ledger,
    slotMs,
    finalityLag,
    syntheticTps: opts.syntheticTps ?? 0,
    templateCount: synthetic.templates.length,
    forks: faultSpec.forks,
    ...(activity ? { activity } : {}),
    events: {
      slotCreated: (b: BlockRecord) => pubsub.slotCreated(b),
      confirmed: (bs: BlockRecord[]) => {
        pubsub.confirmed(bs);
        geyser.confirmed(bs);
      },
      rooted: (bs: BlockRecord[]) => {
        pubsub.rooted(bs);
        wake();
      },
    },
  });

  const handler = createHttpHandler({ call: methods.call, faults, stats: httpStats });
  const host = opts.host ?? "127.0.0.1";
  const { http, ws, port, wsPort } = await listenPair(host, opts.port ?? 8899, handler);
  for (const s of [http, ws]) s.on("upgrade", (req, socket, head) => pubsub.handleUpgrade(req, socket, head));
  const grpcPort = await geyser.listen(host, opts.grpcPort ?? (port === 0 || opts.port === 0 ? 0 : port + 2));

  if (!opts.once && opts.autoProduce !== false) producer.start();
  const urlHost = host.includes(":") ? `[${host}]` : host;
  log(`chain listening: http://${urlHost}:${port} ws://${urlHost}:${wsPort} grpc://${urlHost}:${grpcPort}`);

  return {
    rpcUrl: `http://${urlHost}:${port}`,
    wsUrl: `ws://${urlHost}:${wsPort}`,
    grpcUrl: `http://${urlHost}:${grpcPort}`,
    port,
    wsPort,
    grpcPort,
    problems: loaded.problems,
    history,
    forkSlots: producer.forkSlots,
    slot: (c = "finalized") => ledger.slotAt(c),
    tick() {
      const b = producer.tick();
      wake();
      return b.slot;
    },
    dropFinalized: (slot) => producer.dropFinalized(slot),
    waitForSlot(slot, c = "processed", timeoutMs = 30_000) {
      if (ledger.slotAt(c) >= slot) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`slot ${slot} not ${c} within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ slot, c, resolve: () => (clearTimeout(t), resolve()) });
        const poll = setInterval(
          () => {
            if (ledger.slotAt(c) >= slot) {
              clearInterval(poll);
              wake();
            }
          },
          Math.max(10, slotMs / 2),
        );
        poll.unref();
        t.unref?.();
      });
    },
    stats: () => ({
      ...httpStats,
      ...pubsub.stats,
      ...faults.counts,
      produced: producer.produced,
      ...svmStats(svm),
      ...Object.fromEntries(Object.entries(geyser.stats).map(([k, v]) => [`grpc_${k}`, v])),
    }),
    subscriptions: (kind) => pubsub.subscriptionCount(kind),
    dropWebSockets: (mode) => pubsub.dropAll(mode),
    dropGrpc: () => geyser.drop(),
    restartGrpc: (downMs) => geyser.restart(downMs),
    grpcSubscribers: () => geyser.subscribers(),
    async close() {
      producer.stop();
      await svm?.close();
      await pubsub.close();
      await geyser.close();
      for (const s of [http, ws]) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
    },
  };
}

/** LiteSVM executor counters under `svm_` keys (none without --svm-activity). */
function svmStats(svm: SvmActivity | undefined): Record<string, number> {
  if (!svm) return {};
  const s = svm.stats();
  return { svm_executed: s.executed, svm_restarts: s.restarts, svm_skipped: s.skipped, svm_buffered: s.buffered };
}

type Handler = Parameters<typeof createServer>[1];

/** Listens HTTP on `port` and WebSocket on port + 1; with port 0, retries until a free pair is found. */
async function listenPair(
  host: string,
  port: number,
  handler: Handler,
): Promise<{ http: Server; ws: Server; port: number; wsPort: number }> {
  const listen = (s: Server, p: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const onErr = (err: Error): void => reject(err);
      s.once("error", onErr);
      s.listen(p, host, () => {
        s.off("error", onErr);
        resolve((s.address() as AddressInfo).port);
      });
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const http = createServer({ keepAliveTimeout: 65_000 }, handler);
    http.headersTimeout = 66_000;
    const ws = createServer((_req, res) => {
      res.writeHead(426, { "content-type": "text/plain" }).end("Upgrade Required");
    });
    const p = await listen(http, port);
    try {
      const wp = await listen(ws, p + 1);
      return { http, ws, port: p, wsPort: wp };
    } catch (err) {
      await new Promise<void>((r) => http.close(() => r()));
      if (port !== 0 || (err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    }
  }
  throw new Error("no free port pair (HTTP, HTTP + 1) found");
}
