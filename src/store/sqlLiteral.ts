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
