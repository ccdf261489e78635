import { keccakP } from "@noble/hashes/sha3.js";

/** STROBE-128 rate in bytes: 200-byte Keccak-f[1600] state minus 2 x 128-bit security / 8 minus 2. */
const R = 166;
const FLAG_I = 1;
const FLAG_A = 2;
const FLAG_C = 4;
const FLAG_M = 16;
const FLAG_K = 32;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The subset of STROBE-128 that Merlin transcripts use (meta-AD, AD, PRF). */
class Strobe128 {
  private readonly words = new Uint32Array(50);
  private readonly st = new Uint8Array(this.words.buffer);
  private pos = 0;
  private posBegin = 0;
  private curFlags = 0;

  constructor(protocolLabel: Uint8Array) {
    this.st.set([1, R + 2, 1, 0, 1, 96]);
    this.st.set(new TextEncoder().encode("STROBEv1.0.2"), 6);
    this.keccakF();
    this.metaAd(protocolLabel, false);
  }

  metaAd(data: Uint8Array, more: boolean): void {
    this.beginOp(FLAG_M | FLAG_A, more);
    this.absorb(data);
  }

  ad(data: Uint8Array, more: boolean): void {
    this.beginOp(FLAG_A, more);
    this.absorb(data);
  }

  prf(n: number, more: boolean): Uint8Array {
    this.beginOp(FLAG_I | FLAG_A | FLAG_C, more);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = this.st[this.pos]!;
      this.st[this.pos] = 0;
      this.pos++;
      if (this.pos === R) this.runF();
    }
    return out;
  }

  private keccakF(): void {
    // keccakP works on little-endian 32-bit lanes.
    if (!LITTLE_ENDIAN) swap32(this.words);
    keccakP(this.words);
    if (!LITTLE_ENDIAN) swap32(this.words);
  }

  private runF(): void {
    this.st[this.pos]! ^= this.posBegin;
    this.st[this.pos + 1]! ^= 0x04;
    this.st[R + 1]! ^= 0x80;
    this.keccakF();
    this.pos = 0;
    this.posBegin = 0;
  }

  private absorb(data: Uint8Array): void {
    for (const b of data) {
      this.st[this.pos]! ^= b;
      this.pos++;
      if (this.pos === R) this.runF();
    }
  }

  private beginOp(flags: number, more: boolean): void {
    if (more) {
      if (this.curFlags !== flags) throw new Error("strobe: continued operation with other flags");
      return;
    }
    const old = this.posBegin;
    this.posBegin = this.pos + 1;
    this.curFlags = flags;
    this.absorb(Uint8Array.of(old, flags));
    if ((flags & (FLAG_C | FLAG_K)) !== 0 && this.pos !== 0) this.runF();
  }
}

function swap32(a: Uint32Array): void {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    a[i] = ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
  }
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function le32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

/** Merlin transcript (merlin.cool), as SecretConnection uses it to derive the authentication challenge. */
export class MerlinTranscript {
  private readonly strobe = new Strobe128(utf8("Merlin v1.0"));

  constructor(label: string) {
    this.appendMessage("dom-sep", utf8(label));
  }

  appendMessage(label: string, message: Uint8Array): void {
    this.strobe.metaAd(utf8(label), false);
    this.strobe.metaAd(le32(message.length), true);
    this.strobe.ad(message, false);
  }

  challengeBytes(label: string, n: number): Uint8Array {
    this.strobe.metaAd(utf8(label), false);
    this.strobe.metaAd(le32(n), true);
    return this.strobe.prf(n, false);
  }
}
