/**
 * Settles like `p`, or rejects with `onTimeout()`'s error once `ms` pass first (`p` may still finish
 * later; the deadline has decided). `onTimeout` may also cancel the work, e.g. close its socket.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(onTimeout()), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
