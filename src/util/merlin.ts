import { keccakP } from "@noble/hashes/sha3.js";

/** STROBE-128 rate (bytes absorbed per permutation at the 128-bit security level). */
const STROBE_R = 166;
const FLAG_I = 1;
const FLAG_A = 1 << 1;
const FLAG_C = 1 << 2;
const FLAG_M = 1 << 4;
const FLAG_K = 1 << 5;

const enc = new TextEncoder();
const bytesOf = (d: string | Uint8Array): Uint8Array => (typeof d === "string" ? enc.encode(d) : d);

function u32le(n: number): Uint8Array {
  return Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
}

/** The subset of STROBE-128 that Merlin uses (meta-AD, AD, PRF, KEY), byte-compatible with merlin's Rust crate. */
class Strobe128 {
  private readonly state: Uint8Array;
  private readonly lanes: Uint32Array;
  private pos = 0;
  private posBegin = 0;
  private curFlags = 0;

  constructor(protocolLabel: Uint8Array | null, from?: Strobe128) {
    this.state = new Uint8Array(200);
    this.lanes = new Uint32Array(this.state.buffer);
    if (from !== undefined) {
      this.state.set(from.state);
      this.pos = from.pos;
      this.posBegin = from.posBegin;
      this.curFlags = from.curFlags;
      return;
    }
    this.state.set([1, STROBE_R + 2, 1, 0, 1, 96], 0);
    this.state.set(enc.encode("STROBEv1.0.2"), 6);
    keccakP(this.lanes);
    this.metaAd(protocolLabel ?? new Uint8Array(), false);
  }

  clone(): Strobe128 {
    return new Strobe128(null, this);
  }

  metaAd(data: Uint8Array, more: boolean): void {
    this.beginOp(FLAG_M | FLAG_A, more);
    this.absorb(data);
  }

  ad(data: Uint8Array, more: boolean): void {
    this.beginOp(FLAG_A, more);
    this.absorb(data);
  }

  prf(len: number, more: boolean): Uint8Array {
    this.beginOp(FLAG_I | FLAG_A | FLAG_C, more);
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      out[i] = this.state[this.pos]!;
      this.state[this.pos] = 0;
      this.step();
    }
    return out;
  }

  key(data: Uint8Array, more: boolean): void {
    this.beginOp(FLAG_A | FLAG_C, more);
    for (const b of data) {
      this.state[this.pos] = b;
      this.step();
    }
  }

  private absorb(data: Uint8Array): void {
    for (const b of data) {
      this.state[this.pos]! ^= b;
      this.step();
    }
  }

  private step(): void {
    if (++this.pos === STROBE_R) this.runF();
  }

  private runF(): void {
    this.state[this.pos]! ^= this.posBegin;
    this.state[this.pos + 1]! ^= 0x04;
    this.state[STROBE_R + 1]! ^= 0x80;
    keccakP(this.lanes);
    this.pos = 0;
    this.posBegin = 0;
  }

  private beginOp(flags: number, more: boolean): void {
    if (more) {
      if (this.curFlags !== flags) throw new Error("strobe: continued an operation with other flags");
      return;
    }
    const oldBegin = this.posBegin;
    this.posBegin = this.pos + 1;
    this.curFlags = flags;
    this.absorb(Uint8Array.of(oldBegin, flags));
    if ((flags & (FLAG_C | FLAG_K)) !== 0 && this.pos !== 0) this.runF();
  }
}

/**
 * Merlin transcript (merlin.cool): a STROBE-128 duplex that absorbs labelled messages and squeezes
 * labelled challenges. schnorrkel's signatures, key derivation and VRF are built on it.
 */
export class Transcript {
  private readonly strobe: Strobe128;

  constructor(label: string | Uint8Array, from?: Strobe128) {
    if (from !== undefined) {
      this.strobe = from;
      return;
    }
    this.strobe = new Strobe128(enc.encode("Merlin v1.0"));
    this.appendMessage("dom-sep", label);
  }

  clone(): Transcript {
    return new Transcript("", this.strobe.clone());
  }

  appendMessage(label: string | Uint8Array, message: Uint8Array | string): void {
    const m = bytesOf(message);
    this.strobe.metaAd(bytesOf(label), false);
    this.strobe.metaAd(u32le(m.length), true);
    this.strobe.ad(m, false);
  }

  appendU64(label: string | Uint8Array, v: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, true);
    this.appendMessage(label, b);
  }

  challengeBytes(label: string | Uint8Array, len: number): Uint8Array {
    this.strobe.metaAd(bytesOf(label), false);
    this.strobe.metaAd(u32le(len), true);
    return this.strobe.prf(len, false);
  }

  /**
   * merlin's TranscriptRng: a fork of the transcript keyed with secret witnesses and fresh randomness,
   * so a nonce depends on the whole statement, the secret and the system RNG (either alone suffices).
   */
  witnessBytes(label: string | Uint8Array, len: number, witnesses: Uint8Array[], random: Uint8Array): Uint8Array {
    const s = this.strobe.clone();
    for (const w of witnesses) {
      s.metaAd(bytesOf(label), false);
      s.metaAd(u32le(w.length), true);
      s.key(w, false);
    }
    s.metaAd(enc.encode("rng"), false);
    s.key(random, false);
    s.metaAd(u32le(len), false);
    return s.prf(len, false);
  }
}
