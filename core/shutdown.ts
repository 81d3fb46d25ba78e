/** Graceful shutdown: resources register their cleanup; `kill()` aborts the signal and runs every callback once. */
export type Shutdown = {
  /** Registers a cleanup; callbacks run in reverse order of registration (last opened, first closed). */
  add(cb: () => unknown | Promise<unknown>): void;
  /** Aborts `signal` and awaits every callback, bounded by `graceMs`; safe to call more than once. */
  kill(reason?: string): Promise<void>;
  signal: AbortSignal;
  readonly isKilled: boolean;
};

/** Creates a Shutdown; callbacks that throw or hang past `graceMs` are reported through `onError`. */
export function createShutdown(opts: { graceMs?: number; onError?: (err: unknown) => void } = {}): Shutdown {
  const controller = new AbortController();
  const callbacks: (() => unknown)[] = [];
  let killing: Promise<void> | undefined;
  const graceMs = opts.graceMs ?? 15_000;

  const runAll = async () => {
    for (const cb of callbacks.reverse()) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          opts.onError?.(new Error(`shutdown callback exceeded ${graceMs} ms`));
          resolve();
        }, graceMs);
        timer.unref();
      });
      try {
        await Promise.race([Promise.resolve().then(cb), timeout]);
      } catch (err) {
        opts.onError?.(err);
      } finally {
        clearTimeout(timer);
      }
    }
  };

  return {
    add: (cb) => void callbacks.push(cb),
    kill(reason) {
      if (!killing) {
        controller.abort(new Error(reason ?? "shutdown"));
        killing = runAll();
      }
      return killing;
    },
    signal: controller.signal,
    get isKilled() {
      return controller.signal.aborted;
    },
  };
}
