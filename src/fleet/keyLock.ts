import type { KeyRef } from "../store/index.js";
import { LockClass, type LockKey } from "../store/index.js";

/** FNV-1a over a string: 31 bits, stable across processes (advisory lock ids, group-commit shards). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h & 0x7fffffff;
}

/** Advisory lock id of one key of one owner (31-bit hash; a collision only serialises two keys). */
export function keyLock(k: KeyRef): LockKey {
  return { cls: LockClass.FleetKey, id: hashString(`${k.ownerId}|${k.chain}|${k.pubkey}`) };
}
