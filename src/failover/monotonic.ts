/** Monotonic milliseconds (performance.now): deadlines must not move when the wall clock is stepped. */
export interface Monotonic {
  now(): number;
}

export const monotonic: Monotonic = { now: () => performance.now() };

/**
 * Timers on the same clock as `Monotonic`. Injected so the fault-schedule model (test/model/failover)
 * can run daemons on a simulated clock; production uses node's timers.
 */
export interface Timers {
  /** Calls `fn` once `ms` have passed; returns a function that cancels it. */
  after(ms: number, fn: () => void): () => void;
}

export const realTimers: Timers = {
  after: (ms, fn) => {
    const t = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(t);
  },
};

/** Settles like `p`, or rejects with `onTimeout()` once `ms` pass first (on the given timers). */
export function withTimers<T>(timers: Timers, p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise((resolve, reject) => {
    const cancel = timers.after(ms, () => reject(onTimeout()));
    p.then(
      (v) => {
        cancel();
        resolve(v);
      },
      (e: unknown) => {
        cancel();
        reject(e);
      },
    );
  });
}

/** Sleeps `ms` on the given timers; resolves early (without error) when `signal` aborts. */
export function sleepOn(timers: Timers, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      cancel();
      resolve();
    };
    const cancel = timers.after(ms, () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
