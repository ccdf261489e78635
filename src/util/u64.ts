import { BadRequestError } from "./errors.js";

export const U64_MAX = (1n << 64n) - 1n;

/**
 * The one written form of an unsigned integer we read: ASCII decimal digits, no sign, no spaces, no
 * prefix, and no leading zero (so each number has exactly one spelling; the beacon API, EIP-3076 and
 * every client write `n.toString(10)`). 78 digits bound the work before BigInt (2^256 has 78).
 */
const DECIMAL_RE = /^(0|[1-9][0-9]{0,77})$/;

/** The value of a canonical decimal string of an unsigned integer of `bits` bits, or null. */
export function canonicalUint(value: string, bits: number): bigint | null {
  if (!DECIMAL_RE.test(value)) return null;
  const n = BigInt(value);
  return n < 1n << BigInt(bits) ? n : null;
}

/**
 * An unsigned integer of `bits` bits from a JSON value: a canonical decimal string (the beacon API's
 * form), or a JSON number that is an exact, non-negative integer below 2^53 (Web3Signer's own examples
 * carry a few). Anything else (sign, spaces, 0x, exponent, fraction, empty, out of range) is null.
 */
export function uintFromJson(value: unknown, bits: number): bigint | null {
  if (typeof value === "string") return canonicalUint(value, bits);
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0 && !Object.is(value, -0)) {
    const n = BigInt(value);
    return n < 1n << BigInt(bits) ? n : null;
  }
  return null;
}

/** Parses a u64 given as a canonical decimal string (EIP-3076, beacon API). Numbers are refused: they lose precision above 2^53. */
export function parseU64(value: unknown, field: string): bigint {
  const n = typeof value === "string" ? canonicalUint(value, 64) : null;
  if (n === null) {
    throw new BadRequestError(`${field} must be a decimal string of an unsigned 64-bit integer`, field);
  }
  return n;
}

/** Like parseU64 but also takes exact JSON integers below 2^53 (some clients send numbers for small fields). */
export function parseU64Lenient(value: unknown, field: string): bigint {
  if (typeof value === "bigint" && value >= 0n && value <= U64_MAX) return value;
  const n = uintFromJson(value, 64);
  if (n === null) {
    throw new BadRequestError(`${field} must be a decimal string of an unsigned 64-bit integer`, field);
  }
  return n;
}

export function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** The larger of two values where null means none. */
export function maxBigOrNull(a: bigint | null, b: bigint | null): bigint | null {
  if (a === null) return b;
  if (b === null) return a;
  return a > b ? a : b;
}

export function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
