import { createCipheriv, createDecipheriv, createHash, hkdfSync } from "node:crypto";
import { type Ed25519Key, ed25519Verify, type X25519KeyPair, x25519Random } from "../../util/curve25519.js";
import { Transcript as MerlinTranscript } from "../../util/merlin.js";
import { SecretConnectionErrorCode as C, SecretConnectionError } from "./errors.js";
import { delimit, ProtoReader, ProtoWriter, WireType } from "./protobuf.js";

/** A byte stream below the SecretConnection (a TCP socket): ordered, reliable, no message boundaries. */
export interface RawStream {
  write(bytes: Uint8Array): Promise<void>;
  /** Exactly `n` bytes; rejects when the stream ends first. */
  read(n: number): Promise<Uint8Array>;
}

/** p2p/conn/secret_connection.go: 1024 data bytes per frame, u32 length prefix, 16-byte Poly1305 tag. */
const FRAME_DATA_BYTES = 1024;
const FRAME_PLAIN_BYTES = 4 + FRAME_DATA_BYTES;
const FRAME_SEALED_BYTES = FRAME_PLAIN_BYTES + 16;
/** The two handshake messages are 35 and 103 bytes; anything far bigger is not a CometBFT peer. */
const MAX_HANDSHAKE_MESSAGE = 1024;
const KDF_INFO = "TENDERMINT_SECRET_CONNECTION_KEY_AND_CHALLENGE_GEN";
const MAX_NONCE = (1n << 64n) - 1n;

/** Peer id of a CometBFT node: hex of the first 20 bytes of sha256(ed25519 public key). */
export function peerIdOf(publicKey: Uint8Array): string {
  return createHash("sha256").update(publicKey).digest().subarray(0, 20).toString("hex");
}

/**
 * HKDF-SHA256 over the raw DH secret (not the transcript), no salt; the side with the lower ephemeral
 * key receives with okm[0:32] and sends with okm[32:64].
 */
export function deriveSecrets(dh: Uint8Array, locIsLeast: boolean): { recvKey: Uint8Array; sendKey: Uint8Array } {
  const okm = new Uint8Array(hkdfSync("sha256", dh, new Uint8Array(0), KDF_INFO, 96));
  const lo = okm.slice(0, 32);
  const hi = okm.slice(32, 64);
  return locIsLeast ? { recvKey: lo, sendKey: hi } : { sendKey: lo, recvKey: hi };
}

/** The challenge both sides sign: Merlin over the sorted ephemeral keys and the DH secret. */
export function handshakeChallenge(localEph: Uint8Array, remoteEph: Uint8Array, dh: Uint8Array): Uint8Array {
  const locIsLeast = Buffer.compare(localEph, remoteEph) < 0;
  const t = new MerlinTranscript("TENDERMINT_SECRET_CONNECTION_TRANSCRIPT_HASH");
  t.appendMessage("EPHEMERAL_LOWER_PUBLIC_KEY", locIsLeast ? localEph : remoteEph);
  t.appendMessage("EPHEMERAL_UPPER_PUBLIC_KEY", locIsLeast ? remoteEph : localEph);
  t.appendMessage("DH_SECRET", dh);
  return t.challengeBytes("SECRET_CONNECTION_MAC", 32);
}

/** google.protobuf.BytesValue{value: pub}, length-delimited: `22 0a 20 <32 bytes>`. */
export const encodeEphemeral = (pub: Uint8Array): Uint8Array => delimit(new ProtoWriter().bytes(1, pub).finish());

function decodeEphemeral(body: Uint8Array): Uint8Array {
  let value: Uint8Array | null = null;
  try {
    const r = new ProtoReader(body);
    for (let h = r.next(); h !== null; h = r.next()) {
      if (h.field === 1 && h.wt === WireType.Len) value = r.bytes();
      else r.skip(h.wt);
    }
  } catch {
    throw new SecretConnectionError(C.BadEphemeralKey, "ephemeral key message does not decode");
  }
  if (value === null || value.length !== 32)
    throw new SecretConnectionError(C.BadEphemeralKey, "ephemeral key must be 32 bytes");
  return value;
}

/** tendermint.p2p.AuthSigMessage{pub_key: PublicKey{ed25519}, sig}, length-delimited. */
export function encodeAuthSig(pub: Uint8Array, sig: Uint8Array): Uint8Array {
  return delimit(
    new ProtoWriter()
      .message(1, (k) => k.bytes(1, pub))
      .bytes(2, sig)
      .finish(),
  );
}

export function decodeAuthSig(body: Uint8Array): { pubKey: Uint8Array; sig: Uint8Array } {
  let pubKey: Uint8Array | null = null;
  let sig: Uint8Array | null = null;
  try {
    const r = new ProtoReader(body);
    for (let h = r.next(); h !== null; h = r.next()) {
      if (h.field === 1 && h.wt === WireType.Len) {
        const k = new ProtoReader(r.bytes());
        for (let f = k.next(); f !== null; f = k.next()) {
          if (f.field === 1 && f.wt === WireType.Len) pubKey = k.bytes();
          else k.skip(f.wt); // another key type: refused below
        }
      } else if (h.field === 2 && h.wt === WireType.Len) sig = r.bytes();
      else r.skip(h.wt);
    }
  } catch {
    throw new SecretConnectionError(C.BadAuthSignature, "auth signature message does not decode");
  }
  if (pubKey === null || pubKey.length !== 32)
    throw new SecretConnectionError(C.BadAuthSignature, "peer identity must be an ed25519 public key");
  if (sig === null || sig.length !== 64)
    throw new SecretConnectionError(C.BadAuthSignature, "auth signature must be 64 bytes");
  return { pubKey, sig };
}

/** One direction of ChaCha20-Poly1305 frames with its own 96-bit nonce (4 zero bytes, u64 LE counter). */
export class FrameCipher {
  private counter = 0n;

  constructor(private readonly key: Uint8Array) {}

  private nextNonce(): Buffer {
    if (this.counter >= MAX_NONCE) throw new SecretConnectionError(C.NonceExhausted, "frame nonce exhausted");
    const nonce = Buffer.alloc(12);
    nonce.writeBigUInt64LE(this.counter, 4);
    this.counter++;
    return nonce;
  }

  seal(data: Uint8Array): Uint8Array {
    if (data.length > FRAME_DATA_BYTES) throw new RangeError("frame data above 1024 bytes");
    const frame = Buffer.alloc(FRAME_PLAIN_BYTES);
    frame.writeUInt32LE(data.length, 0);
    frame.set(data, 4);
    const c = createCipheriv("chacha20-poly1305", this.key, this.nextNonce(), { authTagLength: 16 });
    return new Uint8Array(Buffer.concat([c.update(frame), c.final(), c.getAuthTag()]));
  }

  open(sealed: Uint8Array): Uint8Array {
    const nonce = this.nextNonce();
    let frame: Buffer;
    try {
      const d = createDecipheriv("chacha20-poly1305", this.key, nonce, { authTagLength: 16 });
      d.setAuthTag(sealed.subarray(FRAME_PLAIN_BYTES));
      frame = Buffer.concat([d.update(sealed.subarray(0, FRAME_PLAIN_BYTES)), d.final()]);
    } catch {
      throw new SecretConnectionError(C.DecryptFailed, "failed to decrypt SecretConnection frame");
    }
    const n = frame.readUInt32LE(0);
    if (n > FRAME_DATA_BYTES) throw new SecretConnectionError(C.FrameTooLarge, `frame announces ${n} data bytes`);
    return new Uint8Array(frame.subarray(4, 4 + n));
  }
}

/** Reads `uvarint(len) ‖ body` from a stream, refusing a length above `max` before reading the body. */
export async function readDelimitedFrom(s: RawStream, max: number, tooLarge: () => Error): Promise<Uint8Array> {
  let len = 0;
  for (let i = 0; ; i++) {
    if (i >= 5) throw tooLarge(); // 5 varint bytes already exceed any limit we accept
    const b = (await s.read(1))[0]!;
    len += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) break;
  }
  if (len > max) throw tooLarge();
  return len === 0 ? new Uint8Array(0) : s.read(len);
}

export interface HandshakeOptions {
  /** Fixed ephemeral key (test vectors); a fresh one otherwise. */
  ephemeral?: X25519KeyPair;
}

/**
 * An authenticated, encrypted stream (CometBFT SecretConnection) over a raw stream. Both sides run the
 * same handshake; `remotePubKey` is the peer's long-term identity (checked by the caller if pinned).
 */
export class SecretConnection implements RawStream {
  private plain: Uint8Array = new Uint8Array(0);

  private constructor(
    private readonly raw: RawStream,
    private readonly sender: FrameCipher,
    private readonly receiver: FrameCipher,
    readonly remotePubKey: Uint8Array,
  ) {}

  static async handshake(raw: RawStream, identity: Ed25519Key, opts: HandshakeOptions = {}): Promise<SecretConnection> {
    const eph = opts.ephemeral ?? x25519Random();
    const tooLarge = (): Error => new SecretConnectionError(C.BadEphemeralKey, "handshake message too large");
    // Send first, then read: both sides do so, so neither waits for the other.
    const [, remoteBody] = await Promise.all([
      raw.write(encodeEphemeral(eph.publicKey)),
      readDelimitedFrom(raw, MAX_HANDSHAKE_MESSAGE, tooLarge),
    ]);
    const remoteEph = decodeEphemeral(remoteBody);
    if (Buffer.compare(remoteEph, eph.publicKey) === 0)
      throw new SecretConnectionError(C.BadEphemeralKey, "peer sent our own ephemeral key back");
    let dh: Uint8Array;
    try {
      dh = eph.agree(remoteEph);
    } catch {
      throw new SecretConnectionError(C.LowOrderPoint, "peer ephemeral key is a low-order point");
    }
    const locIsLeast = Buffer.compare(eph.publicKey, remoteEph) < 0;
    const { sendKey, recvKey } = deriveSecrets(dh, locIsLeast);
    const challenge = handshakeChallenge(eph.publicKey, remoteEph, dh);
    const conn = new SecretConnection(raw, new FrameCipher(sendKey), new FrameCipher(recvKey), new Uint8Array(0));
    const authTooLarge = (): Error => new SecretConnectionError(C.BadAuthSignature, "auth message too large");
    const [, authBody] = await Promise.all([
      conn.write(encodeAuthSig(identity.publicKey, identity.sign(challenge))),
      readDelimitedFrom(conn, MAX_HANDSHAKE_MESSAGE, authTooLarge),
    ]);
    const { pubKey, sig } = decodeAuthSig(authBody);
    if (!ed25519Verify(pubKey, challenge, sig))
      throw new SecretConnectionError(C.BadAuthSignature, "challenge verification failed");
    const established = new SecretConnection(raw, conn.sender, conn.receiver, pubKey);
    established.plain = conn.plain;
    return established;
  }

  async write(data: Uint8Array): Promise<void> {
    if (data.length === 0) return;
    const frames: Uint8Array[] = [];
    for (let o = 0; o < data.length; o += FRAME_DATA_BYTES)
      frames.push(this.sender.seal(data.subarray(o, o + FRAME_DATA_BYTES)));
    await this.raw.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
  }

  async read(n: number): Promise<Uint8Array> {
    if (this.plain.length < n) {
      const parts: Uint8Array[] = [this.plain];
      let have = this.plain.length;
      while (have < n) {
        const data = this.receiver.open(await this.raw.read(FRAME_SEALED_BYTES));
        parts.push(data);
        have += data.length;
      }
      this.plain = Buffer.concat(parts);
    }
    const out = this.plain.subarray(0, n);
    this.plain = this.plain.subarray(n);
    return out;
  }
}
