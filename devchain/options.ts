/**
 * Command-line parsing for `npm run chain -- [options]`.
 */
import { parseArgs } from "node:util";
import path from "node:path";
import { parseFaults } from "./faults.js";
import type { ChainOptions } from "./index.js";

/** Usage text printed by --help and on bad arguments. */
export const USAGE = `usage: npm run chain -- [options]
  --port N            HTTP JSON-RPC port (default 8899); PubSub WebSocket on N + 1; 0 = any free pair
  --host H            bind address (default 127.0.0.1)
  --grpc-port N       Geyser gRPC (Yellowstone Subscribe) port (default: HTTP port + 2)
  --grpc-replay-slots N  blocks a gRPC from_slot may go back (default 150; 0 refuses from_slot)
  --fixtures PATH     recorded getBlock/getTransaction JSON, file or folder (recursive); repeatable
                      (default: the mainnet blocks and transactions under ../shared/fixtures)
  --recorded-accounts PATH  a folder of a recorded getMultipleAccounts request and answer whose token mints are
                      served with their real bytes (e.g. ../shared/fixtures/pump-amm/litesvm-replay-snapshot-k13)
  --slot-ms N         produce a new slot every N ms after the recorded history (default 400)
  --synthetic-tps N   new slots carry about N tx/s cloned from the recorded ones (default 0)
  --synthetic-programs IDS  clone only recorded transactions invoking one of these comma-separated program ids
  --svm-activity      new slots also carry SPL Token / Token-2022 transactions executed in LiteSVM
  --svm-tx-per-slot N LiteSVM transactions per slot (default 4)
  --finality-lag N    finalized lags the newest slot by N slots (default 32)
  --faults SPEC       e.g. rate429=0.05,notAvailable=0.05,wsDropEvery=30s,wsStall=10s,fork=slot:+20,dupLogs=0.02,
                      grpcDropEvery=30s,grpcStall=5s,dupBlocks=0.1
  --once              serve the recorded history only, every slot finalized, no new slots
  --without-methods M answer -32601 for these comma-separated methods (an archive such as Old Faithful serves
                      no getBlocks,getBlocksWithLimit)
  --help`;

/** Parses argv (without node and script) into chain options; throws with a message on bad input. */
export function parseChainArgs(argv: string[], cwd = process.cwd()): ChainOptions & { help?: boolean } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      "grpc-port": { type: "string" },
      "grpc-replay-slots": { type: "string" },
      fixtures: { type: "string", multiple: true },
      "recorded-accounts": { type: "string", multiple: true },
      "slot-ms": { type: "string" },
      "synthetic-tps": { type: "string" },
      "synthetic-programs": { type: "string" },
      "svm-activity": { type: "boolean" },
      "svm-tx-per-slot": { type: "string" },
      "finality-lag": { type: "string" },
      faults: { type: "string" },
      once: { type: "boolean" },
      "without-methods": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const bad: string[] = [];
  const int = (name: string, v: string | undefined, min: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) bad.push(`--${name} ${v} (expected an integer >= ${min})`);
    return n;
  };
  const opts: ChainOptions & { help?: boolean } = {};
  const port = int("port", values.port, 0);
  if (port !== undefined) opts.port = port;
  if (values.host) opts.host = values.host;
  const grpcPort = int("grpc-port", values["grpc-port"], 0);
  if (grpcPort !== undefined) opts.grpcPort = grpcPort;
  const replay = int("grpc-replay-slots", values["grpc-replay-slots"], 0);
  if (replay !== undefined) opts.grpcReplaySlots = replay;
  if (values.fixtures) opts.fixtures = values.fixtures.map((f) => path.resolve(cwd, f));
  if (values["recorded-accounts"]) opts.recordedAccounts = values["recorded-accounts"].map((f) => path.resolve(cwd, f));
  const slotMs = int("slot-ms", values["slot-ms"], 1);
  if (slotMs !== undefined) opts.slotMs = slotMs;
  const tps = int("synthetic-tps", values["synthetic-tps"], 0);
  if (tps !== undefined) opts.syntheticTps = tps;
  if (values["synthetic-programs"])
    opts.syntheticPrograms = values["synthetic-programs"]
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean);
  const perSlot = int("svm-tx-per-slot", values["svm-tx-per-slot"], 0);
  if (perSlot !== undefined) opts.svmTxPerSlot = perSlot;
  const lag = int("finality-lag", values["finality-lag"], 0);
  if (lag !== undefined) opts.finalityLag = lag;
  if (values["svm-activity"]) opts.svmActivity = true;
  if (values.once) opts.once = true;
  if (values["without-methods"])
    opts.withoutMethods = values["without-methods"]
      .split(",")
      .map((m) => m.trim())
      .filter(Boolean);
  if (values.help) opts.help = true;
  if (values.faults) {
    try {
      opts.faults = parseFaults(values.faults);
    } catch (err) {
      bad.push((err as Error).message);
    }
  }
  if (bad.length) throw new Error(`invalid arguments: ${bad.join("; ")}`);
  return opts;
}
