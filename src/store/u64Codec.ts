import type { SqlScalar } from "./types.js";

/**
 * SQLite integers are signed 64-bit, chain numbers are unsigned 64-bit. Storing v - 2^63 keeps the full
 * u64 range and its order, so comparisons and indexes in SQL stay correct. PostgreSQL uses NUMERIC(20)
 * and needs no shift. Repositories only ever see bigint.
 */
const SHIFT = 1n << 63n;

export interface U64Codec {
  enc(v: bigint): SqlScalar;
  dec(v: unknown): bigint;
}

export const sqliteU64: U64Codec = {
  enc: (v) => v - SHIFT,
  dec: (v) => BigInt(v as bigint | number) + SHIFT,
};

export const postgresU64: U64Codec = {
  enc: (v) => v.toString(),
  dec: (v) => BigInt(v as string),
};
