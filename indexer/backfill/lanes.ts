/**
 * Bounded-concurrency work for inline backfills: `concurrency` lanes take the next item until none is left.
 * @dev a failure stops the lanes from taking more, and the call rejects only once every item already started has
 * settled. Rejecting at the first failure (Promise.all) let the other lanes go on writing while the command shut down
 * and ended the database pool under them ("Cannot use a pool after calling end on the pool").
 */
export async function runLanes<T>(
  items: readonly T[],
  concurrency: number,
  signal: AbortSignal,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length && !signal.aborted && !failed) {
      try {
        await work(items[next++]!);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  });
  const settled = await Promise.allSettled(lanes);
  const first = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (first) throw first.reason;
}
