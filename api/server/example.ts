/** A dashboard-style query the demo prints (and a test runs against real blocks), so users see what to ask. */

/** The top pools by latest swap with prices and 24 h volume, their newest swaps, and where the indexer is. */
export const DASHBOARD_QUERY = `query Dashboard {
  indexerStatus { latestSlot finalizedSlot chainTip lagSlots }
  pools(first: 5) {
    totalCount
    edges {
      node {
        address dex price
        tokenA { mint symbol decimals }
        tokenB { mint symbol decimals }
        volume(window: H24) { swaps volumeAUi volumeBUi }
        candles(interval: M5) { start open high low close swaps }
        swaps(first: 3) { edges { node { signature slot blockTime trader amountInUi amountOutUi tokenIn { mint } } } }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}`;
