/** The little protobuf the fake node needs, written apart from src/chains/cometbft/protobuf.ts. */

export function varint(v: bigint | number): number[] {
  let x = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
}

export type Field = [field: number, value: bigint | number | Uint8Array | string | { fixed64: bigint } | null];

/** Encodes fields in order, proto3 style: zero numbers, empty bytes/strings and nulls are left out. */
export function pb(fields: Field[]): Buffer {
  const out: Uint8Array[] = [];
  for (const [f, v] of fields) {
    if (v === null) continue;
    if (typeof v === "bigint" || typeof v === "number") {
      if (BigInt(v) === 0n) continue;
      out.push(Uint8Array.from([...varint((f << 3) | 0), ...varint(v)]));
    } else if (typeof v === "string" || v instanceof Uint8Array) {
      const b = typeof v === "string" ? new TextEncoder().encode(v) : v;
      if (b.length === 0) continue;
      out.push(Uint8Array.from([...varint((f << 3) | 2), ...varint(b.length)]), b);
    } else {
      if (v.fixed64 === 0n) continue;
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(v.fixed64);
      out.push(Uint8Array.from(varint((f << 3) | 1)), b);
    }
  }
  return Buffer.concat(out);
}

/** Message fields written even when empty (gogoproto non-nullable). */
export function pbAlways(fields: [number, Uint8Array][]): Buffer {
  return Buffer.concat(
    fields.flatMap(([f, b]) => [Uint8Array.from([...varint((f << 3) | 2), ...varint(b.length)]), b]),
  );
}

export const cat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
export const delimited = (b: Uint8Array): Uint8Array => cat(Uint8Array.from(varint(b.length)), b);

/** Parses one message level into field -> list of raw values (bigint for varints, bytes otherwise). */
export function parse(b: Uint8Array): Map<number, (bigint | Uint8Array)[]> {
  const out = new Map<number, (bigint | Uint8Array)[]>();
  let i = 0;
  const rv = (): bigint => {
    let r = 0n;
    for (let s = 0n; ; s += 7n) {
      if (i >= b.length) throw new Error("fake node: truncated varint");
      const c = b[i++]!;
      r |= BigInt(c & 0x7f) << s;
      if (c < 0x80) return r;
    }
  };
  while (i < b.length) {
    const key = rv();
    const f = Number(key >> 3n);
    const wt = Number(key & 7n);
    let v: bigint | Uint8Array;
    if (wt === 0) v = rv();
    else if (wt === 2) {
      const n = Number(rv());
      v = b.subarray(i, i + n);
      i += n;
    } else if (wt === 1) {
      v = b.subarray(i, i + 8);
      i += 8;
    } else throw new Error(`fake node: wire type ${wt}`);
    out.set(f, [...(out.get(f) ?? []), v]);
  }
  return out;
}

export const bytesAt = (m: Map<number, (bigint | Uint8Array)[]>, f: number): Uint8Array =>
  new Uint8Array((m.get(f)?.[0] as Uint8Array | undefined) ?? new Uint8Array(0));
export const numAt = (m: Map<number, (bigint | Uint8Array)[]>, f: number): bigint =>
  (m.get(f)?.[0] as bigint | undefined) ?? 0n;
