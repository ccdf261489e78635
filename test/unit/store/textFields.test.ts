import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { StoreErrorCode } from "../../../src/store/errors.js";
import { TextFields } from "../../../src/store/textFields.js";

type Rec = [boolean, bigint | null, bigint | null];
const U64_MAX = (1n << 64n) - 1n;

const write = (recs: Rec[]): string =>
  recs.map(([f, a, b]) => `${f ? "t" : "f"},${a === null ? "" : a},${b === null ? "" : b}`).join(";");

function read(text: string, n: number): Rec[] {
  const f = new TextFields(text);
  const out: Rec[] = [];
  for (let i = 0; i < n && f.more(); i++, f.end()) out.push([f.flag(), f.u64(), f.u64(true)]);
  f.expectEnd(n);
  return out;
}

describe("TextFields (string_agg answers)", () => {
  it("reads back what was written: flags, NULLs and every u64, short and long", () => {
    const u64 = fc.oneof(fc.constant(null), fc.bigInt({ min: 0n, max: U64_MAX }), fc.bigInt({ min: 0n, max: 999n }));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), u64, u64), { minLength: 1, maxLength: 20 }), (recs) => {
        expect(read(write(recs), recs.length)).toEqual(recs);
      }),
    );
    expect(read("t,18446744073709551615,999999999999999", 1)).toEqual([[true, U64_MAX, 999999999999999n]]);
    expect(read("t,9007199254740993,", 1)).toEqual([[true, 9007199254740993n, null]]);
  });

  it("refuses another shape with ERR_STORE_UNAVAILABLE (the batch fails closed)", () => {
    for (const [text, n] of [
      ["t,1,2", 2], // a record missing
      ["t,1,2;f,3,4", 1], // one too many
      ["t,1", 1], // a field missing
      ["t,1,2,3", 1], // a field too many
      ["t,-1,2", 1], // not a digit
      ["x,1,2", 1], // not a flag
    ] as const) {
      expect(() => read(text, n), text).toThrow(expect.objectContaining({ code: StoreErrorCode.Unavailable }));
    }
  });
});
