import type { Store } from "../../store/index.js";
import {
  substrateHistoryRepository as history,
  substrateKeysRepository as keys,
  LockClass,
  lockKeys,
} from "../../store/index.js";

export interface SubstratePruneOptions {
  /** Sessions of history kept per key (GRANDPA/BEEFY set ids, parachain sessions, BABE epochs). */
  sessionsToKeep: bigint;
  /** BABE slots per session (epoch): Polkadot 2400 (4 h of 6 s slots), Kusama 600. */
  slotsPerSession: bigint;
  onProgress?: (done: number) => void;
}

export const DEFAULT_SESSIONS_TO_KEEP = 6n;
export const DEFAULT_SLOTS_PER_SESSION = 2400n;

export interface SubstratePruneSummary {
  keys: number;
  deleted: number;
}

const PAGE = 500;

/**
 * Keeps the last N sessions per key. Under the key's signing lock the watermarks move up first (a
 * request below a watermark is refused: its history is gone), then the rows below them are deleted in
 * the same transaction, one key at a time so signing waits for at most one key's pruning.
 * GRANDPA and BEEFY set ids change once per session on Polkadot, so N sessions are N set ids.
 */
export async function pruneSubstrate(store: Store, opts: SubstratePruneOptions): Promise<SubstratePruneSummary> {
  if (opts.sessionsToKeep < 1n) throw new RangeError("sessionsToKeep must be at least 1");
  const summary: SubstratePruneSummary = { keys: 0, deleted: 0 };
  const keep = opts.sessionsToKeep;
  let after = 0;
  for (;;) {
    const page = await store.tx((tx) => keys.page(tx, after, PAGE), { readOnly: true });
    if (page.length === 0) break;
    for (const k of page) {
      summary.deleted += await store.tx(async (tx) => {
        await lockKeys(tx, [{ cls: LockClass.Substrate, id: k.id }]);
        const [s] = [...(await keys.loadStates(tx, [k.id])).values()];
        if (s === undefined) return 0;
        const lows = {
          setId: s.lastSetId !== null && s.lastSetId + 1n > keep ? s.lastSetId + 1n - keep : null,
          slot:
            s.lastSlot !== null && s.lastSlot + 1n > keep * opts.slotsPerSession
              ? s.lastSlot + 1n - keep * opts.slotsPerSession
              : null,
          session: s.lastSession !== null && s.lastSession + 1n > keep ? s.lastSession + 1n - keep : null,
        };
        await keys.raiseLows(tx, k.id, lows);
        const [raised] = [...(await keys.loadStates(tx, [k.id])).values()];
        return history.deleteBelow(tx, k.id, {
          setId: raised!.lowSetId,
          slot: raised!.lowSlot,
          session: raised!.lowSession,
        });
      });
      summary.keys++;
      opts.onProgress?.(summary.keys);
      await new Promise((r) => setImmediate(r)); // let queued signing batches run between keys
    }
    after = page[page.length - 1]!.id;
  }
  return summary;
}
