/**
 * Every document the app sends, in one place: what each page costs is read here (the guards price each against
 * DEFAULT_LIMITS; test/browser/web.test.ts sums a page's costs against the default rate limit), and a page moves to a
 * new API field by changing its document here.
 */

const SWAP_FIELDS = `signature instructionPath slot blockTime trader poolAddress dex mintIn mintOut amountIn amountOut amountInUi amountOutUi valueUsd
  tokenIn { symbol } tokenOut { symbol }`;

/** The token rankings the trending page offers (the API's TokenRanking), first the default. */
export const TOKEN_RANKINGS = [
  "VOLUME_24H_DESC",
  "PRICE_CHANGE_24H_DESC",
  "MARKET_CAP_DESC",
  "LIQUIDITY_DESC",
  "TRADES_24H_DESC",
  "HOLDERS_DESC",
  "NEWEST",
] as const;
/** The pool rankings the trending page offers (the API's PoolRanking), first the default. */
export const POOL_RANKINGS = ["VOLUME_24H_DESC", "TVL_DESC", "TRADES_24H_DESC", "NEWEST"] as const;

/**
 * Trending: the top 50 tokens and pools of a server-side ranking (the pricing stage's, at its cursor), each with its
 * market figures.
 */
export const TRENDING = `query Trending($tokens: TokenRanking!, $pools: PoolRanking!) {
  tokens(ranking: $tokens, first: 50) {
    edges { node { mint symbol name
      market { asOf priceUsd marketCapUsd liquidityUsd holders h24 { volumeUsd trades priceChangePct } } } }
  }
  pools(ranking: $pools, first: 50) {
    edges { node { address dex price tvlUsd mintA mintB tokenA { symbol } tokenB { symbol }
      market { h24 { volumeUsd trades uniqueTraders } } } }
  }
}`;

/** A token page: figures, USD price candles, holders, pools and the latest transfers. */
export const TOKEN = `query Token($mint: String!) {
  token(mint: $mint) {
    priceCandles(interval: M5) { start open high low close points }
    mint symbol name decimals program supply supplyUi holderCount priceUsd marketCapUsd mintAuthority freezeAuthority
    firstSeenSlot updatedSlot
    holders(first: 20) { edges { node { owner amount amountUi share accounts } } }
    pools(first: 10) { edges { node { address dex price tvlUsd mintA mintB tokenA { symbol } tokenB { symbol } } } }
    transfers(first: 20) {
      edges { node { signature instructionPath slot blockTime kind source destination sourceOwner destinationOwner amount amountUi } }
    }
  }
}`;

/** A pool page: reserves, TVL, 24 h volume, candles and its newest swaps. */
export const POOL = `query Pool($address: String!, $interval: CandleInterval!) {
  pool(address: $address) {
    address dex programId mintA mintB vaultA vaultB price reserveA reserveB reservesSlot tvlUsd lastSwapSlot createdSlot
    tokenA { mint symbol name decimals priceUsd } tokenB { mint symbol name decimals priceUsd }
    volume(window: H24) { swaps volumeA volumeAUi volumeB volumeBUi from to }
    candles(interval: $interval) { start open high low close swaps volumeA volumeB }
    swaps(first: 25) { edges { node { ${SWAP_FIELDS} } } }
  }
}`;

/** Live swaps of a pool, pushed as their blocks are stored. */
export const POOL_SWAPS = `subscription PoolSwaps($pool: String!) {
  swaps(where: { pool: $pool }) { ${SWAP_FIELDS} }
}`;

/** The PnL windows the wallet page offers (the API's PnlWindow), first the default. */
export const PNL_WINDOWS = ["ALL", "D30", "D7", "D1"] as const;

/** A wallet page: SOL, holdings (with prices, for the portfolio's value) and trades (its PnL: WALLET_PNL, beside). */
export const WALLET = `query Wallet($address: String!) {
  account(address: $address) {
    address solBalance solBalanceUi
    balances(first: 50) { edges { node { mint amount amountUi accounts token { symbol name decimals priceUsd } } } }
  }
  trades(first: 25, where: { trader: $address }) {
    edges { node { signature slot blockTime soldMint soldAmount soldAmountUi boughtMint boughtAmount boughtAmountUi valueUsd pools
      soldToken { symbol } boughtToken { symbol } } }
  }
}`;

/**
 * A wallet's PnL over a window: sent beside WALLET (a wallet with too many trades for a PnL still shows the rest) and
 * alone by the window switch.
 */
export const WALLET_PNL = `query WalletPnl($address: String!, $window: PnlWindow!) {
  account(address: $address) {
    pnl(window: $window) {
      asOf from trades realizedPnlUsd unrealizedPnlUsd
      tokens { mint token { symbol decimals } trades boughtAmount soldAmount boughtUsd soldUsd realizedPnlUsd unrealizedPnlUsd
        balance lastTrade { blockTime } }
    }
  }
}`;

/** A transaction page: its swaps, transfers and program events. */
export const TRANSACTION = `query Transaction($signature: String!) {
  transaction(signature: $signature) {
    signature slot blockTime position success err fee feePayer computeUnits programIds logTruncated
    swaps { instructionPath poolAddress dex trader mintIn mintOut amountIn amountOut amountInUi amountOutUi valueUsd
      tokenIn { symbol } tokenOut { symbol } }
    transfers { instructionPath kind mint source destination sourceOwner destinationOwner amount amountUi token { symbol } }
    events { instructionPath programId kind name data }
  }
}`;

/** Search: which of mint, pool, token account or transaction a string names (a wallet otherwise). */
export const SEARCH_ADDRESS = `query SearchAddress($q: String!) {
  token(mint: $q) { mint }
  pool(address: $q) { address }
  tokenAccount(address: $q) { address owner }
}`;

/** The console's poll: where the indexer stands, its workers and RPC endpoints, backfills and the newest dead letters. */
export const CONSOLE = `query Console {
  indexerStatus {
    latestSlot latestBlockTime resumeSlot finalizedSlot chainTip lagSlots lagSeconds queueDepth statusUpdatedAt
    backfills { id status slot position done total error createdAt updatedAt }
    rpcEndpoints { endpoint archive state requests errors latencyMs p95Ms }
    workers { id state active concurrency completed failed updatedAt }
  }
  deadLetters { id queue jobId jobName error attempts createdAt }
}`;

/** How often the console sends CONSOLE (its cost a minute is checked against the default rate limit). */
export const CONSOLE_POLL_MS = 2_000;

/** Stored slots as they come (the console's stored transactions a second). */
export const CONSOLE_SLOTS = `subscription ConsoleSlots { slots { slot txCount blockTime } }`;

/** Every document, by name: what the request-budget test prices. */
export const ALL = {
  TRENDING,
  TOKEN,
  POOL,
  POOL_SWAPS,
  WALLET,
  WALLET_PNL,
  TRANSACTION,
  SEARCH_ADDRESS,
  CONSOLE,
  CONSOLE_SLOTS,
};
