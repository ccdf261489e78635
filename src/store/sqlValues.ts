/** Drivers give 64-bit integers as bigint (SQLite safe integers) or string (pg): times and ids fit a double. */
export function num(v: unknown): number {
  return typeof v === "number" ? v : Number(v as bigint | string);
}

export function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}

/** SQLite stores booleans as 0/1. */
export function bool(v: unknown): boolean {
  return v === true || v === 1 || v === 1n || v === "1" || v === "t";
}

export function textOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

/** A BLOB / bytea column (drivers give a Buffer) as plain bytes. */
export function bytes(v: unknown): Uint8Array {
  return new Uint8Array(v as Buffer);
}

export function bytesOrNull(v: unknown): Uint8Array | null {
  return v === null || v === undefined ? null : bytes(v);
}
