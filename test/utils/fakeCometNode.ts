/**
 * A fake CometBFT node: the LISTENING side of privval (priv_validator_laddr). It speaks the real wire
 * format (SecretConnection over TCP, plain over a Unix socket, length-delimited privval.Message) and,
 * like a real node, serves one signer connection at a time, sends one request and waits for its answer,
 * and verifies every signature it gets over sign bytes it computes itself.
 *
 * Written independently of src/signer/privval and src/chains/cometbft (own protobuf, Merlin, handshake
 * and sign bytes) so that a bug there cannot hide behind the same bug here.
 */
import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  sign as edSign,
  verify as edVerify,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
} from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { keccakP } from "@noble/hashes/sha3";

// ---------- protobuf, the little that is needed ----------

function varint(v: bigint | number): number[] {
  let x = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
}

type Field = [field: number, value: bigint | number | Uint8Array | string | { fixed64: bigint } | null];

/** Encodes fields in order, proto3 style: zero numbers, empty bytes/strings and nulls are left out. */
function pb(fields: Field[]): Buffer {
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
function pbAlways(fields: [number, Uint8Array][]): Buffer {
  return Buffer.concat(
    fields.flatMap(([f, b]) => [Uint8Array.from([...varint((f << 3) | 2), ...varint(b.length)]), b]),
  );
}

const cat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
const delimited = (b: Uint8Array): Uint8Array => cat(Uint8Array.from(varint(b.length)), b);

/** Parses one message level into field -> list of raw values (bigint for varints, bytes otherwise). */
function parse(b: Uint8Array): Map<number, (bigint | Uint8Array)[]> {
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

const bytesAt = (m: Map<number, (bigint | Uint8Array)[]>, f: number): Uint8Array =>
  new Uint8Array((m.get(f)?.[0] as Uint8Array | undefined) ?? new Uint8Array(0));
const numAt = (m: Map<number, (bigint | Uint8Array)[]>, f: number): bigint =>
  (m.get(f)?.[0] as bigint | undefined) ?? 0n;

// ---------- consensus messages ----------

export interface FakeTime {
  seconds: bigint;
  nanos: number;
}

export interface FakeBlock {
  hash: Uint8Array;
  total: number;
  partsHash: Uint8Array;
}

export interface FakeVote {
  type: 1 | 2;
  height: bigint;
  round: number;
  block: FakeBlock | null;
  timestamp: FakeTime;
  extension?: Uint8Array | undefined;
}

export interface FakeProposal {
  height: bigint;
  round: number;
  polRound: number;
  block: FakeBlock;
  timestamp: FakeTime;
}

const ts = (t: FakeTime): Uint8Array =>
  pb([
    [1, t.seconds],
    [2, t.nanos],
  ]);
const blockIdMsg = (b: FakeBlock): Uint8Array =>
  cat(
    pb([[1, b.hash]]),
    pbAlways([
      [
        2,
        pb([
          [1, b.total],
          [2, b.partsHash],
        ]),
      ],
    ]),
  );

/** CanonicalVote sign bytes, computed here independently to check the signer's signatures. */
export function fakeVoteSignBytes(chainId: string, v: FakeVote): Uint8Array {
  const head = pb([
    [1, v.type],
    [2, { fixed64: v.height }],
    [3, { fixed64: BigInt(v.round) }],
  ]);
  const block = v.block === null ? new Uint8Array(0) : pbAlways([[4, blockIdMsg(v.block)]]);
  return delimited(cat(head, block, pbAlways([[5, ts(v.timestamp)]]), pb([[6, chainId]])));
}

export function fakeProposalSignBytes(chainId: string, p: FakeProposal): Uint8Array {
  const head = pb([
    [1, 32],
    [2, { fixed64: p.height }],
    [3, { fixed64: BigInt(p.round) }],
    [4, BigInt(p.polRound)],
  ]);
  return delimited(
    cat(
      head,
      pbAlways([
        [5, blockIdMsg(p.block)],
        [6, ts(p.timestamp)],
      ]),
      pb([[7, chainId]]),
    ),
  );
}

export function fakeExtensionSignBytes(chainId: string, v: FakeVote): Uint8Array {
  return delimited(
    pb([
      [1, v.extension ?? new Uint8Array(0)],
      [2, { fixed64: v.height }],
      [3, { fixed64: BigInt(v.round) }],
      [4, chainId],
    ]),
  );
}

function voteMsg(v: FakeVote): Uint8Array {
  return cat(
    pb([
      [1, v.type],
      [2, v.height],
      [3, v.round],
    ]),
    pbAlways([
      [4, v.block === null ? pbAlways([[2, new Uint8Array(0)]]) : blockIdMsg(v.block)],
      [5, ts(v.timestamp)],
    ]),
    pb([
      [6, randomBytes(20)],
      [7, 3],
      [9, v.extension ?? null],
    ]),
  );
}

function proposalMsg(p: FakeProposal): Uint8Array {
  return cat(
    pb([
      [1, 32],
      [2, p.height],
      [3, p.round],
      [4, p.polRound],
    ]),
    pbAlways([
      [5, blockIdMsg(p.block)],
      [6, ts(p.timestamp)],
    ]),
  );
}

const wrap = (field: number, body: Uint8Array): Uint8Array => new Uint8Array(pbAlways([[field, body]]));

export const requests = {
  ping: (): Uint8Array => wrap(7, new Uint8Array(0)),
  pubKey: (chainId: string): Uint8Array => wrap(1, pb([[1, chainId]])),
  vote: (chainId: string, v: FakeVote, skipExtensionSigning = false): Uint8Array =>
    wrap(
      3,
      cat(
        pbAlways([[1, voteMsg(v)]]),
        pb([
          [2, chainId],
          [3, skipExtensionSigning ? 1 : 0],
        ]),
      ),
    ),
  proposal: (chainId: string, p: FakeProposal): Uint8Array =>
    wrap(5, cat(pbAlways([[1, proposalMsg(p)]]), pb([[2, chainId]]))),
  signBytes: (value: Uint8Array): Uint8Array => wrap(9, pb([[1, value]])),
  unknown: (field: number): Uint8Array => wrap(field, pb([[1, 1]])),
};

export interface FakeResponse {
  /** privval.Message member number of the answer (0 for an empty message). */
  member: number;
  error: { code: number; description: string } | null;
  signature: Uint8Array;
  extensionSignature: Uint8Array;
  timestamp: FakeTime | null;
  pubKey: Uint8Array | null;
  pubKeyV1: Uint8Array | null;
  /** Size of the response on the wire, to check the node's 10 KiB read limit. */
  bytes: number;
}

function decodeResponse(body: Uint8Array): FakeResponse {
  const top = parse(body);
  const member = top.size === 0 ? 0 : [...top.keys()][0]!;
  const r: FakeResponse = {
    member,
    error: null,
    signature: new Uint8Array(0),
    extensionSignature: new Uint8Array(0),
    timestamp: null,
    pubKey: null,
    pubKeyV1: null,
    bytes: body.length,
  };
  if (member === 0) return r;
  const m = parse(bytesAt(top, member));
  if (m.has(2)) {
    const e = parse(bytesAt(m, 2));
    r.error = { code: Number(numAt(e, 1)), description: new TextDecoder().decode(bytesAt(e, 2)) };
  }
  if (member === 2) {
    if (m.has(1)) {
      const k = parse(bytesAt(m, 1));
      if (k.has(1)) r.pubKey = bytesAt(k, 1);
    }
    if (m.has(3)) r.pubKeyV1 = bytesAt(m, 3);
  } else if (member === 4 || member === 6) {
    const x = parse(bytesAt(m, 1));
    const t = parse(bytesAt(x, member === 4 ? 5 : 6));
    r.timestamp = { seconds: BigInt.asIntN(64, numAt(t, 1)), nanos: Number(numAt(t, 2)) };
    r.signature = bytesAt(x, member === 4 ? 8 : 7);
    if (member === 4) r.extensionSignature = bytesAt(x, 10);
  } else if (member === 10) r.signature = bytesAt(m, 1);
  return r;
}

// ---------- SecretConnection (listening side), own implementation ----------

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
class Reader {
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

interface Channel {
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

async function readVarintFrom(read: (n: number) => Promise<Uint8Array>): Promise<number> {
  let v = 0;
  for (let i = 0; i < 8; i++) {
    const b = (await read(1))[0]!;
    v += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) return v;
  }
  throw new Error("fake node: varint too long");
}

async function handshake(socket: Socket, reader: Reader): Promise<Channel & { signerIdentity: Uint8Array }> {
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

// ---------- the node ----------

export interface FakeNodeOptions {
  /** A Unix socket path: plain privval, no SecretConnection. Default: TCP on 127.0.0.1, port 0. */
  unixPath?: string;
}

/** A node's listener. `request` sends one privval message on the current connection and returns the answer. */
export class FakeCometNode {
  private current: Channel | null = null;
  private readonly waiting: Socket[] = [];
  private readonly all = new Set<Socket>();
  private connectedWaiters: (() => void)[] = [];
  private hijack: ((socket: Socket) => void) | null = null;
  private busy = false;
  /** Every connection that completed the handshake. */
  connections = 0;

  private constructor(
    private readonly server: Server,
    readonly address: string,
    private readonly secret: boolean,
  ) {
    server.on("connection", (s) => {
      this.all.add(s);
      s.setNoDelay(true); // as Go's net package does for every TCP connection
      s.on("close", () => this.all.delete(s));
      s.on("error", () => {});
      // A real node accepts the next signer only when it has none (privval/signer_listener_endpoint.go).
      if (this.current !== null) this.waiting.push(s);
      else void this.accept(s);
    });
  }

  static async listen(opts: FakeNodeOptions = {}): Promise<FakeCometNode> {
    const server = createServer();
    if (opts.unixPath !== undefined) {
      await new Promise<void>((r) => server.listen(opts.unixPath, r));
      return new FakeCometNode(server, `unix://${opts.unixPath}`, false);
    }
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    return new FakeCometNode(server, `tcp://127.0.0.1:${port}`, true);
  }

  /** The next accepted connection is handed to `fn` instead of the handshake (for hostile-input tests). */
  hijackNext(fn: (socket: Socket) => void): void {
    this.hijack = fn;
  }

  private async accept(s: Socket): Promise<void> {
    if (this.hijack !== null) {
      const fn = this.hijack;
      this.hijack = null;
      this.current = { socket: s, write: () => {}, read: async () => new Uint8Array(0) };
      s.once("close", () => this.release(s));
      s.resume(); // discard what the signer sends, so that its hang-up is seen
      fn(s);
      return;
    }
    const reader = new Reader(s);
    try {
      this.current = this.secret
        ? await handshake(s, reader)
        : { socket: s, write: (b) => s.write(b), read: (n) => reader.take(n) };
    } catch {
      s.destroy();
      this.release(s);
      return;
    }
    this.connections++;
    s.once("close", () => this.release(s));
    for (const w of this.connectedWaiters.splice(0)) w();
  }

  private release(s: Socket): void {
    if (this.current?.socket === s) this.current = null;
    const next = this.waiting.shift();
    if (next !== undefined && !next.destroyed) void this.accept(next);
  }

  get connected(): boolean {
    return this.current !== null && !this.current.socket.destroyed;
  }

  /** Resolves once `n` signer connections have been authenticated in total. */
  async waitForConnections(n: number): Promise<void> {
    while (this.connections < n) await new Promise<void>((r) => this.connectedWaiters.push(r));
  }

  /** Resolves once a signer connection is authenticated (immediately if one is). */
  async waitForSigner(): Promise<void> {
    while (!this.connected) await new Promise<void>((r) => this.connectedWaiters.push(r));
  }

  /** The plaintext channel of the current connection (to write hostile bytes after the handshake). */
  get channel(): Channel {
    if (this.current === null) throw new Error("fake node: no signer connected");
    return this.current;
  }

  /** One request, one answer (lockstep, as SignerListenerEndpoint.SendRequest). Rejects if the signer hangs up. */
  async request(message: Uint8Array): Promise<FakeResponse> {
    if (this.busy) throw new Error("fake node: one request at a time");
    this.busy = true;
    try {
      await this.waitForSigner();
      const ch = this.channel;
      ch.write(delimited(message));
      const len = await readVarintFrom(ch.read);
      return decodeResponse(await ch.read(len));
    } finally {
      this.busy = false;
    }
  }

  /** Drops the current signer connection (as a node does after a timeout). */
  dropSigner(): void {
    this.current?.socket.destroy();
  }

  async close(): Promise<void> {
    for (const s of this.all) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

export function verifyEd25519(pub: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (pub.length !== 32 || signature.length !== 64) return false;
  return edVerify(
    null,
    message,
    createPublicKey({ key: Buffer.concat([ED25519_SPKI, pub]), format: "der", type: "spki" }),
    signature,
  );
}

export function randomBlock(): FakeBlock {
  return { hash: randomBytes(32), total: 1, partsHash: randomBytes(32) };
}
