import { BadRequestError } from "./errors.js";

export const U64_MAX = (1n << 64n) - 1n;
const DECIMAL_RE = /^(0|[1-9][0-9]{0,19})$/;

/** Parses a u64 given as a decimal string (EIP-3076, beacon API). Numbers are refused: they lose precision above 2^53. */
export function parseU64(value: unknown, field: string): bigint {
  if (typeof value !== "string" || !DECIMAL_RE.test(value)) {
    throw new BadRequestError(`${field} must be a decimal string of an unsigned 64-bit integer`, field);
  }
  const n = BigInt(value);
  if (n > U64_MAX) throw new BadRequestError(`${field} exceeds 2^64-1`, field);
  return n;
}

/** Like parseU64 but also takes safe JSON integers (some clients send numbers for small fields). */
export function parseU64Lenient(value: unknown, field: string): bigint {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === "bigint" && value >= 0n && value <= U64_MAX) return value;
  return parseU64(value, field);
}

export function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

export function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
