/**
 * Runs `fn(0)` … `fn(count - 1)` on `lanes` concurrent lanes (at least one): each lane takes the next index
 * when its previous call settled. For work that waits on the thread pool (KDFs, file I/O).
 */
export async function onLanes(count: number, lanes: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) await fn(i);
  };
  await Promise.all(Array.from({ length: Math.max(1, lanes) }, lane));
}
