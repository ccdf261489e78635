/**
 * SQL literals for PostgreSQL statements that travel without parameters (simple protocol, batched with
 * BEGIN or COMMIT). Only integers, decimal u64 and hex bytes are produced, so no value can break out of
 * its literal; anything else is refused.
 */
export const pgLiteral = {
  int(n: number): string {
    if (!Number.isSafeInteger(n)) throw new TypeError(`not an integer: ${n}`);
    return String(n);
  },

  ints(ns: readonly number[]): string {
    return ns.length === 0 ? "'{}'::int[]" : `ARRAY[${ns.map(pgLiteral.int).join(",")}]::int[]`;
  },

  numerics(vs: readonly (bigint | null)[]): string {
    if (vs.length === 0) return "'{}'::numeric[]";
    return `ARRAY[${vs.map((v) => (v === null ? "NULL" : `'${BigInt.asUintN(64, v) === v ? v.toString() : bad(v)}'`)).join(",")}]::numeric[]`;
  },

  /** Array-text forms ('{…}'::type[]): one constant for the parser, not one expression per element. */
  intArray(ns: readonly number[]): string {
    return `'{${ns.map(pgLiteral.int).join(",")}}'::int[]`;
  },

  numericArray(vs: readonly (bigint | null)[]): string {
    return `'{${vs.map((v) => (v === null ? "NULL" : BigInt.asUintN(64, v) === v ? v.toString() : bad(v))).join(",")}}'::numeric[]`;
  },

  /** Bytes as lower-case hex text (decode(x, 'hex') turns an element back into bytea; NULL stays NULL). */
  hexArray(vs: readonly (Uint8Array | null)[]): string {
    const one = (b: Uint8Array | null): string =>
      b === null ? "NULL" : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
    return `'{${vs.map(one).join(",")}}'::text[]`;
  },

  /**
   * 32-byte values laid end to end as one bytea constant (element k is substring(b FROM 32k+1 FOR 32)),
   * or null when one of them is NULL or not 32 bytes.
   */
  packed32(vs: readonly (Uint8Array | null)[]): string | null {
    const all = Buffer.allocUnsafe(32 * vs.length);
    for (let k = 0; k < vs.length; k++) {
      const v = vs[k];
      if (v === null || v === undefined || v.length !== 32) return null;
      all.set(v, 32 * k);
    }
    return `decode('${all.toString("hex")}', 'hex')`;
  },

  byteas(vs: readonly (Uint8Array | null)[]): string {
    if (vs.length === 0) return "'{}'::bytea[]";
    const one = (b: Uint8Array | null): string =>
      b === null ? "NULL" : `decode('${Buffer.from(b).toString("hex")}','hex')`;
    return `ARRAY[${vs.map(one).join(",")}]::bytea[]`;
  },
};

function bad(v: bigint): never {
  throw new RangeError(`not a u64: ${v}`);
}
