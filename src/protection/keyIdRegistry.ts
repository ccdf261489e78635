import { GroupCommit, type Settled } from "../util/groupCommit.js";

/**
 * Store ids of signing keys, registered on first use (insert-or-get, many keys per transaction) and
 * cached: ids never change once given, so the cache is valid in every process sharing the store.
 */
/** Where a registry keeps the ids it knows (a chain may key them more cheaply than by `keyOf`). */
export interface KeyIdCache<K> {
  get(k: K): number | undefined;
  set(k: K, id: number): void;
}

export class KeyIdRegistry<K> {
  private readonly ids: KeyIdCache<K>;
  private readonly registrations: GroupCommit<K, number>;

  /**
   * @param keyOf the key's identity as a string (the map key of `upsert`'s answer)
   * @param upsert registers keys in one transaction and returns their ids by `keyOf`, or the typed
   *   error that refuses one key (that key alone fails; nothing is cached for it)
   * @param cache where known ids are kept; by default a map keyed by `keyOf`
   */
  constructor(
    private readonly keyOf: (k: K) => string,
    upsert: (keys: K[]) => Promise<Map<string, number | Error>>,
    cache?: KeyIdCache<K>,
  ) {
    this.ids = cache ?? stringKeyed(keyOf);
    this.registrations = new GroupCommit({ maxBatch: 1000 }, async (keys): Promise<Settled<number>[]> => {
      const ids = await upsert(keys);
      return keys.map((k) => {
        const id = ids.get(this.keyOf(k));
        if (id instanceof Error) return { ok: false, error: id };
        return id === undefined ? { ok: false, error: new Error("key registration failed") } : { ok: true, value: id };
      });
    });
  }

  /** The id if this process has seen the key before (no await on the hot path). */
  cached(k: K): number | undefined {
    return this.ids.get(k);
  }

  async id(k: K): Promise<number> {
    const hit = this.ids.get(k);
    if (hit !== undefined) return hit;
    const id = await this.registrations.submit(k);
    this.ids.set(k, id);
    return id;
  }

  close(): Promise<void> {
    return this.registrations.close();
  }
}

function stringKeyed<K>(keyOf: (k: K) => string): KeyIdCache<K> {
  const m = new Map<string, number>();
  return { get: (k) => m.get(keyOf(k)), set: (k, id) => void m.set(keyOf(k), id) };
}
