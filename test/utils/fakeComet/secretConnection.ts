import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  sign as edSign,
  verify as edVerify,
  generateKeyPairSync,
  hkdfSync,
} from "node:crypto";
import type { Socket } from "node:net";
import { keccakP } from "@noble/hashes/sha3.js";
import { bytesAt, cat, delimited, parse, pb, pbAlways } from "./wire.js";

/** The listening side of SecretConnection, written apart from src/chains/cometbft (own STROBE/Merlin too). */

const R = 166;
class Strobe {
  private readonly w = new Uint32Array(50);
  private readonly s = new Uint8Array(this.w.buffer);
  private pos = 0;
  private begin = 0;
  constructor(label: string) {
    this.s.set([1, R + 2, 1, 0, 1, 96, ...Buffer.from("STROBEv1.0.2")]);
    keccakP(this.w);
    this.op(0x12, false, Buffer.from(label));
  }
  private f(): void {
    this.s[this.pos]! ^= this.begin;
    this.s[this.pos + 1]! ^= 4;
    this.s[R + 1]! ^= 0x80;
    keccakP(this.w);
    this.pos = 0;
    this.begin = 0;
  }
  private absorb(d: Iterable<number>): void {
    for (const b of d) {
      this.s[this.pos++]! ^= b;
      if (this.pos === R) this.f();
    }
  }
  /** flags: 0x12 meta-AD, 0x02 AD, 0x07 PRF. */
  op(flags: number, more: boolean, data: Uint8Array | null, n = 0): Uint8Array {
    if (!more) {
      const old = this.begin;
      this.begin = this.pos + 1;
      this.absorb([old, flags]);
      if (flags & 4 && this.pos !== 0) this.f();
    }
    if (data !== null) {
      this.absorb(data);
      return data;
    }
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = this.s[this.pos]!;
      this.s[this.pos++] = 0;
      if (this.pos === R) this.f();
    }
    return out;
  }
}

function transcriptChallenge(lo: Uint8Array, hi: Uint8Array, dh: Uint8Array): Uint8Array {
  const st = new Strobe("Merlin v1.0");
  const le = (n: number): Uint8Array => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  const append = (label: string, m: Uint8Array): void => {
    st.op(0x12, false, Buffer.from(label));
    st.op(0x12, true, le(m.length));
    st.op(0x02, false, m);
  };
  append("dom-sep", Buffer.from("TENDERMINT_SECRET_CONNECTION_TRANSCRIPT_HASH"));
  append("EPHEMERAL_LOWER_PUBLIC_KEY", lo);
  append("EPHEMERAL_UPPER_PUBLIC_KEY", hi);
  append("DH_SECRET", dh);
  st.op(0x12, false, Buffer.from("SECRET_CONNECTION_MAC"));
  st.op(0x12, true, le(32));
  return st.op(0x07, false, null, 32);
}

const X25519_SPKI = Buffer.from("302a300506032b656e032100", "hex");
const ED25519_SPKI = Buffer.from("302a300506032b6570032100", "hex");
const rawPub = (k: ReturnType<typeof createPublicKey>): Buffer =>
  k.export({ format: "der", type: "spki" }).subarray(12);

/** Reads exact byte counts from a socket. */
export class Reader {
  private buf = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  private closed = false;
  constructor(socket: Socket) {
    socket.on("data", (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake?.();
    });
    const end = (): void => {
      this.closed = true;
      this.wake?.();
    };
    socket.on("close", end);
    socket.on("error", end);
  }
  async take(n: number): Promise<Buffer> {
    while (this.buf.length < n) {
      if (this.closed) throw new Error("fake node: signer closed the connection");
      await new Promise<void>((r) => {
        this.wake = r;
      });
      this.wake = null;
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
}

export interface Channel {
  socket: Socket;
  write(b: Uint8Array): void;
  read(n: number): Promise<Uint8Array>;
}

class Frames {
  private n = 0n;
  constructor(private readonly key: Uint8Array) {}
  private nonce(): Buffer {
    const b = Buffer.alloc(12);
    b.writeBigUInt64LE(this.n++, 4);
    return b;
  }
  seal(d: Uint8Array): Buffer {
    const f = Buffer.alloc(1028);
    f.writeUInt32LE(d.length);
    f.set(d, 4);
    const c = createCipheriv("chacha20-poly1305", this.key, this.nonce(), { authTagLength: 16 });
    return Buffer.concat([c.update(f), c.final(), c.getAuthTag()]);
  }
  open(s: Uint8Array): Buffer {
    const d = createDecipheriv("chacha20-poly1305", this.key, this.nonce(), { authTagLength: 16 });
    d.setAuthTag(s.subarray(1028));
    const f = Buffer.concat([d.update(s.subarray(0, 1028)), d.final()]);
    return f.subarray(4, 4 + f.readUInt32LE(0));
  }
}

export async function readVarintFrom(read: (n: number) => Promise<Uint8Array>): Promise<number> {
  let v = 0;
  for (let i = 0; i < 8; i++) {
    const b = (await read(1))[0]!;
    v += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) return v;
  }
  throw new Error("fake node: varint too long");
}

export async function handshake(socket: Socket, reader: Reader): Promise<Channel & { signerIdentity: Uint8Array }> {
  const eph = generateKeyPairSync("x25519");
  const ephPub = rawPub(eph.publicKey);
  socket.write(Buffer.from([0x22, 0x0a, 0x20, ...ephPub]));
  const head = await reader.take(3);
  if (head[0] !== 0x22 || head[1] !== 0x0a || head[2] !== 0x20) throw new Error("fake node: bad ephemeral message");
  const remote = await reader.take(32);
  const dh = diffieHellman({
    privateKey: eph.privateKey,
    publicKey: createPublicKey({ key: Buffer.concat([X25519_SPKI, remote]), format: "der", type: "spki" }),
  });
  const least = Buffer.compare(ephPub, remote) < 0;
  const okm = Buffer.from(
    hkdfSync("sha256", dh, Buffer.alloc(0), "TENDERMINT_SECRET_CONNECTION_KEY_AND_CHALLENGE_GEN", 96),
  );
  const [recv, send] = least
    ? [okm.subarray(0, 32), okm.subarray(32, 64)]
    : [okm.subarray(32, 64), okm.subarray(0, 32)];
  const challenge = transcriptChallenge(least ? ephPub : remote, least ? remote : ephPub, dh);
  const out = new Frames(send);
  const inn = new Frames(recv);
  let plain = Buffer.alloc(0);
  const channel: Channel = {
    socket,
    write: (b) => {
      const parts: Buffer[] = [];
      for (let o = 0; o < b.length; o += 1024) parts.push(out.seal(b.subarray(o, o + 1024)));
      socket.write(Buffer.concat(parts));
    },
    read: async (n) => {
      while (plain.length < n) plain = Buffer.concat([plain, inn.open(await reader.take(1044))]);
      const r = plain.subarray(0, n);
      plain = plain.subarray(n);
      return r;
    },
  };
  const id = generateKeyPairSync("ed25519");
  const sig = edSign(null, challenge, id.privateKey);
  channel.write(delimited(cat(pbAlways([[1, pb([[1, rawPub(id.publicKey)]])]]), pb([[2, sig]]))));
  const auth = parse(await channel.read(await readVarintFrom(channel.read)));
  const signerPub = bytesAt(parse(bytesAt(auth, 1)), 1);
  const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI, signerPub]), format: "der", type: "spki" });
  if (!edVerify(null, challenge, key, bytesAt(auth, 2))) throw new Error("fake node: signer auth signature invalid");
  return { ...channel, signerIdentity: signerPub };
}
