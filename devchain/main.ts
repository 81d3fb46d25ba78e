/**
 * `npm run chain -- [options]`: runs the local chain until SIGINT/SIGTERM.
 * Prints one JSON line `{"event":"listening","rpcUrl":...,"wsUrl":...,"grpcUrl":...}` on stdout once ready.
 */
import { createChain } from "./index.js";
import { parseChainArgs, USAGE } from "./options.js";

async function main(): Promise<void> {
  let opts;
  try {
    opts = parseChainArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    console.error(USAGE);
    process.exit(2);
  }
  if (opts.help) {
    console.log(USAGE);
    return;
  }
  const chain = await createChain({ ...opts, log: (msg) => console.error(`chain: ${msg}`) });
  console.log(
    JSON.stringify({
      event: "listening",
      rpcUrl: chain.rpcUrl,
      wsUrl: chain.wsUrl,
      grpcUrl: chain.grpcUrl,
      firstSlot: chain.history.slots[0] ?? null,
      lastRecordedSlot: chain.history.slots.at(-1) ?? null,
    }),
  );
  let closing = false;
  const stop = (): void => {
    if (closing) return;
    closing = true;
    chain.close().then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
