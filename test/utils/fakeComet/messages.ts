import { createPublicKey, verify as edVerify, randomBytes } from "node:crypto";
import { bytesAt, cat, delimited, numAt, parse, pb, pbAlways } from "./wire.js";

/** Consensus messages as a node builds them, sign bytes it checks signatures against, answers it reads. */

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

export function decodeResponse(body: Uint8Array): FakeResponse {
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

const ED25519_SPKI = Buffer.from("302a300506032b6570032100", "hex");
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
