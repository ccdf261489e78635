import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BytesMap } from "../../../src/util/bytesMap.js";

describe("BytesMap", () => {
  it("agrees with a map keyed by hex over random keys, including ones that differ in one byte only", () => {
    const key = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 64 }),
      // 48-byte keys that differ in their first bytes only: all share the hashed tail, so they collide
      fc.integer({ min: 0, max: 7 }).map((i) => {
        const k = new Uint8Array(48);
        k[0] = i;
        return k;
      }),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(key, fc.integer())), fc.array(key), (sets, gets) => {
        const m = new BytesMap<number>();
        const model = new Map<string, number>();
        for (const [k, v] of sets) {
          m.set(k, v);
          model.set(Buffer.from(k).toString("hex"), v);
        }
        expect(m.size).toBe(model.size);
        for (const k of [...sets.map(([k]) => k), ...gets])
          expect(m.get(k)).toBe(model.get(Buffer.from(k).toString("hex")));
      }),
    );
  });

  it("keeps its own copy: changing the caller's array afterwards changes nothing", () => {
    const m = new BytesMap<number>();
    const k = new Uint8Array(48).fill(1);
    m.set(k, 7);
    k[47] = 2;
    expect(m.get(k)).toBeUndefined();
    expect(m.get(new Uint8Array(48).fill(1))).toBe(7);
  });

  it("tells keys of different lengths apart", () => {
    const m = new BytesMap<string>();
    m.set(new Uint8Array([1, 2, 3]), "three");
    m.set(new Uint8Array([0, 1, 2, 3]), "four");
    expect(m.get(new Uint8Array([1, 2, 3]))).toBe("three");
    expect(m.get(new Uint8Array([0, 1, 2, 3]))).toBe("four");
    expect(m.get(new Uint8Array([2, 3]))).toBeUndefined();
  });
});
