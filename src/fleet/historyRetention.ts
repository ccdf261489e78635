import type { Store } from "../store/index.js";
import { historyRepository } from "../store/index.js";

/** Rows one retention transaction deletes at most (a few milliseconds of SQLite; the signer shares it). */
const RETENTION_BATCH = 1000;

/**
 * Deletes history intervals closed before `before`, and the rows of keys that left their host before
 * it, in small transactions with a yield between them. Returns how many rows went.
 */
export async function pruneFleetHistory(store: Store, before: number, stop?: () => boolean): Promise<number> {
  let total = 0;
  for (const step of [historyRepository.deleteClosedBefore, historyRepository.deleteGoneKeysBefore]) {
    for (;;) {
      if (stop?.() === true) return total;
      const n = await store.tx((tx) => step(tx, before, RETENTION_BATCH));
      total += n;
      if (n < RETENTION_BATCH) break;
      await new Promise((r) => setImmediate(r));
    }
  }
  return total;
}
