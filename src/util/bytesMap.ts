/**
 * A map keyed by byte strings (public keys) without building a string per lookup: a 32-bit hash of the
 * bytes picks a bucket, and the bytes themselves decide (a copy is kept, so a caller mutating its
 * array later cannot change what a key maps to).
 */
export class BytesMap<V> {
  private readonly buckets = new Map<number, { key: Uint8Array; value: V }[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: Uint8Array): V | undefined {
    const bucket = this.buckets.get(hashBytes(key));
    if (bucket === undefined) return undefined;
    for (const e of bucket) if (sameBytes(e.key, key)) return e.value;
    return undefined;
  }

  set(key: Uint8Array, value: V): void {
    const h = hashBytes(key);
    const bucket = this.buckets.get(h);
    if (bucket === undefined) {
      this.buckets.set(h, [{ key: key.slice(), value }]);
      this.count++;
      return;
    }
    for (const e of bucket) {
      if (sameBytes(e.key, key)) {
        e.value = value;
        return;
      }
    }
    bucket.push({ key: key.slice(), value });
    this.count++;
  }
}

/**
 * FNV-1a over the length and the last eight bytes: public keys are uniformly random there (BLS and
 * Ed25519 alike), and keys numbered in their last bytes (tests, benches) still spread. Other collisions
 * cost a byte comparison, never a wrong answer.
 */
function hashBytes(b: Uint8Array): number {
  let h = Math.imul(0x811c9dc5 ^ b.length, 0x01000193);
  for (let i = Math.max(0, b.length - 8); i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
