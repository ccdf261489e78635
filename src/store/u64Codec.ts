import type { SqlScalar, SqlTx } from "./types.js";

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

const U64_MAX = (1n << 64n) - 1n;

/** A value outside u64 is a bug upstream: it must never be wrapped into another number or reach SQL. */
function checked(v: bigint): bigint {
  if (typeof v !== "bigint" || v < 0n || v > U64_MAX) throw new RangeError(`not a u64: ${String(v)}`);
  return v;
}

export const sqliteU64: U64Codec = {
  enc: (v) => checked(v) - SHIFT,
  dec: (v) => BigInt(v as bigint | number) + SHIFT,
};

export const postgresU64: U64Codec = {
  enc: (v) => checked(v).toString(),
  dec: (v) => BigInt(v as string),
};

/** One u64 column of a batch as a PostgreSQL array parameter (null stays null). */
export function u64Array<T>(
  tx: Pick<SqlTx, "u64Nullable">,
  items: readonly T[],
  pick: (item: T) => bigint | null,
): SqlScalar[] {
  return items.map((x) => tx.u64Nullable(pick(x)));
}
