/**
 * `slotline demo`: the local chain (real mainnet blocks, then new slots with cloned mainnet load), migrations,
 * ingest, worker and the GraphQL API in one process, so a user sees the database fill live with no RPC provider.
 * @dev the chain lives in test/chain (a development tool); the demo loads it at run time, so production images
 * without test/ still start every other command.
 */

/** First slot of the two whole mainnet blocks among the fixtures: the demo indexes from there. */
export const DEMO_START_SLOT = 332_254_855;

/** Options of the demo. */
export type DemoOptions = { port: number; syntheticTps: number; slotMs: number };

/** Starts the local chain; returns the environment that points slotline at it, and its close function. */
export async function startDemoChain(opts: DemoOptions): Promise<{ env: Record<string, string>; close(): Promise<void>; rpcUrl: string }> {
  const chainModule = "../../test/chain/index.js";
  const { createChain } = (await import(chainModule)) as typeof import("../../test/chain/index.js");
  const chain = await createChain({ port: opts.port, syntheticTps: opts.syntheticTps, slotMs: opts.slotMs, svmActivity: true, log: (m: string) => process.stderr.write(`chain: ${m}\n`) });
  return {
    rpcUrl: chain.rpcUrl,
    close: () => chain.close(),
    env: {
      SOLANA_RPC_URL: chain.rpcUrl,
      SOLANA_WS_URL: chain.wsUrl,
      START_SLOT: String(DEMO_START_SLOT),
      // The local chain has no rate limit; the defaults protect public endpoints.
      RPC_MAX_RPS: "5000",
      RPC_CONCURRENCY: "16",
      FINALITY_INTERVAL_MS: "2000",
    },
  };
}
