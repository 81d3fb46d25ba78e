/**
 * The benchmark harness: every entry is measured after a warm-up, at least 3 times, and reported as
 * median with min and max; where it names a reference, the reference is measured in the same run.
 */

/** One benchmark. `measure` returns one sample in `unit` (e.g. rows/s); it may do its own timing. */
export type BenchEntry = {
  name: string;
  description: string;
  unit: string;
  /** true when a larger value is better (throughput); false for latencies */
  higherIsBetter: boolean;
  runs?: number;
  setup?: () => Promise<void>;
  measure: () => Promise<number>;
  /** the raw limit or peer this entry is compared against, measured in the same run */
  reference?: { name: string; measure: () => Promise<number> };
  /** extra figures to print beside the entry (e.g. per-program counts), computed once after the runs */
  details?: () => Promise<Record<string, string | number>>;
  teardown?: () => Promise<void>;
};

/** One line of bench/results.json. */
export type BenchResult = {
  name: string;
  value: number;
  unit: string;
  min: number;
  max: number;
  reference: { name: string; value: number; min: number; max: number } | null;
  ratio: number | null;
  details?: Record<string, string | number>;
};

/**
 * A group of entries that share setup (e.g. one database fill); each module in bench/entries exports one.
 * `teardown` runs after the last of its entries that ran (what they shared: servers, databases).
 */
export type BenchSuite = {
  name: string;
  entries: () => Promise<BenchEntry[]> | BenchEntry[];
  teardown?: () => Promise<void>;
};

/** The `p` quantile (0..1) of ascending `sorted` (the nearest rank below); undefined when empty. */
export function quantile(sorted: readonly number[], p: number): number | undefined {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}
