/**
 * Receive buffers for large RPC answers, recycled between requests.
 * @dev A getBlock answer of the ingest bench is 54 MB. In a fresh Buffer that is a fresh mmap (glibc never serves
 * more than 32 MB from its heap), so every answer page-faulted 13,000 zeroed pages in and unmapped them again when
 * collected: 21-28 ms a block by itself, and 8.8% of a busy worker's CPU under the bench's load. A recycled buffer
 * is already mapped (4 ms to fill). A lease is given back explicitly once the answer's bytes are no longer read
 * (the worker does so after decoding); one never given back is simply collected.
 */

/** A buffer holding one answer: `body` is valid until `release()` (idempotent) gives it back to the pool. */
export type Lease = { body: Buffer; release(): void };

/** Answers at least this long are received into pooled buffers; smaller ones are not worth keeping. */
export const POOLED_MIN_BYTES = 1024 * 1024;
/** Capacities are rounded up to this, so answers of similar size share buffers. */
const ROUND_BYTES = 4 * 1024 * 1024;

/** A pool keeping at most `maxFree` idle buffers (the largest are kept when it is full). */
export function createBodyPool(maxFree: number) {
  const free: Buffer[] = [];
  return {
    /** A lease of `size` bytes (uninitialized). */
    acquire(size: number): Lease {
      let best = -1;
      for (let i = 0; i < free.length; i++)
        if (free[i]!.length >= size && (best < 0 || free[i]!.length < free[best]!.length)) best = i;
      const buf =
        best >= 0 ? free.splice(best, 1)[0]! : Buffer.allocUnsafeSlow(Math.ceil(size / ROUND_BYTES) * ROUND_BYTES);
      let held = true;
      return {
        body: buf.subarray(0, size),
        release() {
          if (!held) return;
          held = false;
          free.push(buf);
          if (free.length > maxFree) {
            free.sort((a, b) => b.length - a.length);
            free.length = maxFree;
          }
        },
      };
    },
  };
}

/** A release shared by `n` holders: the lease is given back when each has released once (at once when n is 0). */
export function shareRelease(release: () => void, n: number): (() => void)[] {
  if (n === 0) release();
  let left = n;
  return Array.from({ length: n }, () => {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--left === 0) release();
    };
  });
}
