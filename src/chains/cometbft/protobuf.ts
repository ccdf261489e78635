import { CometWireError, CometWireErrorCode } from "./errors.js";

/**
 * The few protobuf wire rules CometBFT's messages need, written out so that the encoding is exactly
 * what gogoproto produces (proto3 defaults omitted by the caller, non-nullable sub-messages always
 * written) and the decoder refuses anything malformed instead of guessing.
 * Hand-written on purpose, unlike the gRPC types (generated from the .proto, src/grpc/): the sign bytes
 * (CanonicalVote / CanonicalProposal, signBytes.ts) must be byte-exact gogoproto, which a generated codec
 * does not promise; the privval envelope carries those same Vote / Proposal messages, so it shares this.
 */
export enum WireType {
  Varint = 0,
  Fixed64 = 1,
  Len = 2,
  Fixed32 = 5,
}

const U64_MASK = (1n << 64n) - 1n;

export class ProtoWriter {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  private push(b: Uint8Array): this {
    this.parts.push(b);
    this.size += b.length;
    return this;
  }

  /** A varint of an unsigned value, or of a negative int64/int32 as its 64-bit two's complement (10 bytes). */
  rawVarint(v: bigint | number): this {
    return this.push(encodeVarint(BigInt(v)));
  }

  tag(field: number, wt: WireType): this {
    return this.rawVarint((field << 3) | wt);
  }

  varint(field: number, v: bigint | number): this {
    return this.tag(field, WireType.Varint).rawVarint(v);
  }

  bool(field: number, v: boolean): this {
    return this.varint(field, v ? 1 : 0);
  }

  sfixed64(field: number, v: bigint): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, v, true);
    return this.tag(field, WireType.Fixed64).push(b);
  }

  bytes(field: number, v: Uint8Array): this {
    return this.tag(field, WireType.Len).rawVarint(v.length).push(v);
  }

  string(field: number, v: string): this {
    return this.bytes(field, new TextEncoder().encode(v));
  }

  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

function encodeVarint(v: bigint): Uint8Array {
  let x = v < 0n ? v & U64_MASK : v;
  if (x > U64_MASK) throw new RangeError("varint above 2^64-1");
  const out: number[] = [];
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return Uint8Array.from(out);
}

/** `uvarint(len) ‖ bytes`: the framing of every privval message and of canonical sign bytes. */
export function delimit(body: Uint8Array): Uint8Array {
  const prefix = encodeVarint(BigInt(body.length));
  const out = new Uint8Array(prefix.length + body.length);
  out.set(prefix, 0);
  out.set(body, prefix.length);
  return out;
}

export interface FieldHeader {
  field: number;
  wt: WireType;
}

const malformed = (what: string): CometWireError => new CometWireError(CometWireErrorCode.Malformed, what);

/** Reads one message's fields; every read checks bounds, so hostile input ends in ERR_COMETBFT_MALFORMED. */
export class ProtoReader {
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  next(): FieldHeader | null {
    if (this.done) return null;
    const key = this.varint();
    const wt = Number(key & 7n);
    const field = Number(key >> 3n);
    if (field < 1 || field > 0x1fffffff) throw malformed(`field number ${field} out of range`);
    if (wt !== WireType.Varint && wt !== WireType.Fixed64 && wt !== WireType.Len && wt !== WireType.Fixed32)
      throw malformed(`unsupported wire type ${wt}`);
    return { field, wt };
  }

  /** An unsigned varint of at most 10 bytes (64 bits). */
  varint(): bigint {
    let result = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw malformed("truncated varint");
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) {
        if (i === 9 && b > 1) throw malformed("varint above 64 bits");
        return result;
      }
    }
    throw malformed("varint longer than 10 bytes");
  }

  int64(): bigint {
    return BigInt.asIntN(64, this.varint());
  }

  /** int32 on the wire is a sign-extended varint; the low 32 bits are the value. */
  int32(): number {
    return Number(BigInt.asIntN(32, this.varint()));
  }

  uint32(): number {
    const v = this.varint();
    if (v > 0xffffffffn) throw malformed("uint32 out of range");
    return Number(v);
  }

  bool(): boolean {
    return this.varint() !== 0n;
  }

  sfixed64(): bigint {
    const b = this.take(8);
    return new DataView(b.buffer, b.byteOffset, 8).getBigInt64(0, true);
  }

  bytes(): Uint8Array {
    const n = this.varint();
    if (n > BigInt(this.buf.length - this.pos)) throw malformed("length-delimited field runs past the end");
    return this.take(Number(n));
  }

  string(): string {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(this.bytes());
    } catch (e) {
      if (e instanceof CometWireError) throw e;
      throw malformed("string is not valid UTF-8");
    }
  }

  skip(wt: WireType): void {
    if (wt === WireType.Varint) this.varint();
    else if (wt === WireType.Fixed64) this.take(8);
    else if (wt === WireType.Fixed32) this.take(4);
    else this.bytes();
  }

  /** Throws unless the field has the wire type the schema gives it (a mismatch is malformed input). */
  expect(h: FieldHeader, wt: WireType): void {
    if (h.wt !== wt) throw malformed(`field ${h.field} has wire type ${h.wt}, expected ${wt}`);
  }

  private take(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) throw malformed("truncated field");
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

/**
 * Reads `uvarint(len) ‖ body` from the front of `buf`. Returns null when `buf` does not yet hold the
 * whole message (stream reassembly); throws when the prefix is malformed or announces more than `max`.
 */
export function readDelimited(buf: Uint8Array, max: number): { body: Uint8Array; used: number } | null {
  let len = 0n;
  let i = 0;
  for (;;) {
    if (i >= buf.length) return null;
    if (i >= 10) throw malformed("length prefix longer than 10 bytes");
    const b = buf[i]!;
    len |= BigInt(b & 0x7f) << BigInt(7 * i);
    i++;
    if ((b & 0x80) === 0) break;
  }
  if (len > BigInt(max))
    throw new CometWireError(CometWireErrorCode.TooLarge, `message of ${len} bytes exceeds the limit of ${max}`);
  const n = Number(len);
  if (buf.length - i < n) return null;
  return { body: buf.subarray(i, i + n), used: i + n };
}
