import { UintBigintType, UintNumberType } from "@chainsafe/ssz";
import { uintFromJson } from "../../util/u64.js";

/**
 * SSZ unsigned integers that read JSON strictly. The library's own `fromJson` takes `BigInt(s)` or
 * `parseInt(s)`: "-1", "0x10", " 5" and 2^64 all pass, and the value is later wrapped mod 2^N when hashed.
 * A signing request must carry exactly the number that gets signed, so anything but a canonical decimal
 * string in range (or an exact JSON integer below 2^53) is refused here, before any hashing.
 */
export class StrictUintBigintType extends UintBigintType {
  override fromJson(json: unknown): bigint {
    const n = uintFromJson(json, this.byteLength * 8);
    if (n === null) throw new RangeError(notUint(this.byteLength));
    return n;
  }
}

/** Integers of fewer than 8 bytes stay JS numbers (exact there); the same strict reading. */
export class StrictUintNumberType extends UintNumberType {
  override fromJson(json: unknown): number {
    const n = uintFromJson(json, this.byteLength * 8);
    if (n === null) throw new RangeError(notUint(this.byteLength));
    return Number(n);
  }
}

function notUint(byteLength: number): string {
  return `an integer must be a decimal string of an unsigned ${byteLength * 8}-bit number (digits only, no leading zero)`;
}
