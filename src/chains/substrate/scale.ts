import { SubstrateError, SubstrateErrorCode } from "./errors.js";

/**
 * A bounds-checked reader of SCALE-encoded bytes. Every read past the end throws ERR_SUBSTRATE_MALFORMED
 * naming what was being read, so a truncated payload is a clear refusal, never an exception from deep inside.
 */
export class ScaleReader {
  private pos = 0;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  u8(field: string): number {
    this.need(1, field);
    return this.bytes[this.pos++]!;
  }

  u32(field: string): number {
    this.need(4, field);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u64(field: string): bigint {
    this.need(8, field);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  bool(field: string): boolean {
    const b = this.u8(field);
    if (b > 1) throw this.malformed(`${field} is not a SCALE bool`);
    return b === 1;
  }

  fixed(n: number, field: string): Uint8Array {
    this.need(n, field);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** SCALE Compact<uN> (all four modes); big-integer mode is read up to 2^64-1 and refused above. */
  compact(field: string): bigint {
    const first = this.u8(field);
    switch (first & 3) {
      case 0:
        return BigInt(first >> 2);
      case 1: {
        const v = (first | (this.u8(field) << 8)) >> 2;
        if (v < 1 << 6) throw this.malformed(`${field} is a non-canonical compact`);
        return BigInt(v);
      }
      case 2: {
        this.pos--;
        const v = this.u32(field) >>> 2;
        if (v < 1 << 14) throw this.malformed(`${field} is a non-canonical compact`);
        return BigInt(v);
      }
      default: {
        const len = (first >> 2) + 4;
        if (len > 8) throw this.malformed(`${field} exceeds 64 bits`);
        const b = this.fixed(len, field);
        let v = 0n;
        for (let i = len - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
        if (v < 1n << 30n || b[len - 1] === 0) throw this.malformed(`${field} is a non-canonical compact`);
        return v;
      }
    }
  }

  /** Vec<u8>: compact length, then the bytes. */
  vecU8(field: string): Uint8Array {
    const n = this.compact(field);
    if (n > BigInt(this.remaining)) throw this.malformed(`${field} is longer than the data`);
    return this.fixed(Number(n), field);
  }

  /** Throws unless every byte was read (a payload with trailing data is not the structure it claims to be). */
  end(): void {
    if (this.pos !== this.bytes.length) throw this.malformed(`${this.remaining} unexpected trailing bytes`);
  }

  malformed(detail: string): SubstrateError {
    return new SubstrateError(
      { code: SubstrateErrorCode.Malformed, what: this.what, offset: this.pos },
      `${this.what}: ${detail} (at byte ${this.pos})`,
    );
  }

  private need(n: number, field: string): void {
    if (this.pos + n > this.bytes.length) throw this.malformed(`truncated while reading ${field}`);
  }
}

/** SCALE Compact encoding of a non-negative integer. */
export function encodeCompact(v: bigint): Uint8Array {
  if (v < 0n) throw new RangeError("compact of a negative number");
  if (v < 1n << 6n) return Uint8Array.of(Number(v) << 2);
  if (v < 1n << 14n) {
    const n = (Number(v) << 2) | 1;
    return Uint8Array.of(n & 0xff, n >> 8);
  }
  if (v < 1n << 30n) {
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, ((Number(v) << 2) | 2) >>> 0, true);
    return out;
  }
  const bytes: number[] = [];
  for (let x = v; x > 0n; x >>= 8n) bytes.push(Number(x & 0xffn));
  if (bytes.length > 67) throw new RangeError("compact too large");
  return Uint8Array.of(((bytes.length - 4) << 2) | 3, ...bytes);
}

export function u32le(v: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, v >>> 0, true);
  return out;
}

export function u64le(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, v, true);
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
